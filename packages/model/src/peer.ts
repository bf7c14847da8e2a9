import { z } from 'zod';

/** Membership states of a peer, SWIM style. `dead` peers are kept, not forgotten; `left` is a clean exit. */
export const peerStates = ['alive', 'suspect', 'dead', 'left'] as const;
export type PeerState = (typeof peerStates)[number];

/**
 * What an operator may do over the network, from least to most: `view` reads, `deploy` also changes
 * workloads (templates, deployments, actions, exec, writing secrets), `admin` also manages the cluster
 * (join tokens, removing members, tags) and reads secret-derived values. Peers are not graded: every peer
 * holds the secrets key anyway.
 */
export const operatorAccessLevels = ['view', 'deploy', 'admin'] as const;
export type OperatorAccess = (typeof operatorAccessLevels)[number];
/** The access of an operator token minted without one, and of operator records from before access levels. */
export const defaultOperatorAccess: OperatorAccess = 'deploy';

/** A member of the cluster as the graph records it. */
export const peerRecordSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(['peer', 'operator']),
  tags: z.array(z.string()),
  addresses: z.array(z.string()),
  joinedAt: z.string(),
  /** Operators only: set by the peer that redeemed the operator's join token, from its own ledger. */
  access: z.enum(operatorAccessLevels).optional(),
});
export type PeerRecord = z.infer<typeof peerRecordSchema>;
