import { z } from 'zod';

/** Membership states of a peer, SWIM style. `dead` peers are kept, not forgotten; `left` is a clean exit. */
export const peerStates = ['alive', 'suspect', 'dead', 'left'] as const;
export type PeerState = (typeof peerStates)[number];

/** A member of the cluster as the graph records it. */
export const peerRecordSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(['peer', 'operator']),
  tags: z.array(z.string()),
  addresses: z.array(z.string()),
  joinedAt: z.string(),
});
export type PeerRecord = z.infer<typeof peerRecordSchema>;
