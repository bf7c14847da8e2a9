import { z } from 'zod';

/**
 * libp2p protocols between monk peers and operator machines. Every message is one UTF-8 JSON document.
 *
 * - `controlProtocol`: a stream carrying exactly the frames of the unix-socket control protocol (the first
 *   message is the request frame, then `{ event }`… and a final `{ result }` / `{ error }`; the client
 *   may send `{ stdin }` frames). Any member (peer or operator) may open it.
 * - `joinProtocol`: one request/response, reachable by a newcomer that holds the network key but is not
 *   on the allow-list yet. The newcomer presents the token's secret; the peer that issued the token
 *   checks it (single use, not expired), records the newcomer as a member, and answers with the cluster.
 */
export const controlProtocol = '/monk/control/1.0.0';
export const joinProtocol = '/monk/join/1.0.0';

export const joinRequestSchema = z.object({
  v: z.literal(1),
  /** The one-time secret carried by the join token. */
  secret: z.string().min(16),
  name: z.string().min(1).max(63),
  role: z.enum(['peer', 'operator']),
  /** Where the newcomer can be reached (empty for operators). */
  addresses: z.array(z.string()),
  tags: z.array(z.string()).default([]),
});
export type JoinRequest = z.infer<typeof joinRequestSchema>;

export const joinResponseSchema = z.object({
  v: z.literal(1),
  clusterId: z.string(),
  clusterName: z.string(),
  /** Every member the newcomer can dial, the issuing peer first. */
  peers: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      role: z.enum(['peer', 'operator']),
      addresses: z.array(z.string()),
    }),
  ),
  /** The cluster's secrets key (base64url), so secrets stay readable on every peer. Absent for operators. */
  secretsKey: z.string().optional(),
});
export type JoinResponse = z.infer<typeof joinResponseSchema>;

/** Encodes a JSON message for a libp2p stream or request. */
export function encodeJsonMessage(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** Decodes a JSON message; a malformed one throws SyntaxError (callers answer PROTOCOL_ERROR). */
export function decodeJsonMessage(bytes: Uint8Array): unknown {
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** The problems a peer tells the others about in its membership meta (see `PeerEntry.problems`). */
export const peerProblemsSchema = z
  .array(z.object({ code: z.string().max(64), message: z.string().max(2000) }))
  .max(16);
