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

/**
 * A peer's place in the cluster's WireGuard mesh, written by the peer itself (see `@monk/network`'s address
 * plan). Only the public key: the private key never leaves the peer's data dir.
 */
export const peerWireguardSchema = z.object({
  /** WireGuard public key, base64. */
  publicKey: z.string().min(1),
  /** Where its WireGuard listens on the underlay, `IP:port`; missing when it does not know (behind a NAT). */
  endpoint: z.string().optional(),
  /** The address of its WireGuard interface. */
  overlayAddress: z.string(),
  /** Its container subnet, a CIDR inside the cluster CIDR. */
  subnet: z.string(),
});
export type PeerWireguard = z.infer<typeof peerWireguardSchema>;

/**
 * What a peer's host offers to workloads, read by the peer itself at start: CPUs (`os.cpus()`), memory in
 * bytes (`os.totalmem()`) and NVIDIA GPUs (`/proc/driver/nvidia/gpus`), absent when it has none.
 */
export const peerCapacitySchema = z.object({
  cpus: z.number().min(0),
  memoryBytes: z.number().int().min(0),
  gpus: z.number().int().min(0).optional(),
});
export type PeerCapacity = z.infer<typeof peerCapacitySchema>;

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
  /** Peers in the mesh only (monkd --mesh): its WireGuard key, endpoint and addresses. */
  wireguard: peerWireguardSchema.optional(),
  /** Peers only: what its host offers to workloads (absent on peers from before capacity was recorded). */
  capacity: peerCapacitySchema.optional(),
});
export type PeerRecord = z.infer<typeof peerRecordSchema>;
