import { z } from 'zod';

/** Version of the wire format; a message with another version is dropped. */
export const membershipWireVersion = 1;

/** Messages larger than this are dropped before parsing. */
export const maxMembershipMessageBytes = 4 * 1024 * 1024;

const idSchema = z.string().min(1).max(256);
const incarnationSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const metaSchema = z
  .record(z.string().max(256), z.string().max(4096))
  .refine((meta) => Object.keys(meta).length <= 64, 'at most 64 meta entries');

const updateSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('alive'), id: idSchema, incarnation: incarnationSchema, meta: metaSchema }),
  z.object({ kind: z.literal('suspect'), id: idSchema, incarnation: incarnationSchema, from: idSchema }),
  z.object({ kind: z.literal('dead'), id: idSchema, incarnation: incarnationSchema, from: idSchema }),
  z.object({ kind: z.literal('left'), id: idSchema, incarnation: incarnationSchema }),
]);

const updatesSchema = z.array(updateSchema).max(1024);

const memberRecordSchema = z.object({
  id: idSchema,
  state: z.enum(['alive', 'suspect', 'dead', 'left']),
  incarnation: incarnationSchema,
  meta: metaSchema,
});

const messageSchema = z.discriminatedUnion('type', [
  z.object({ v: z.literal(1), type: z.literal('ping'), target: idSchema, updates: updatesSchema }),
  z.object({ v: z.literal(1), type: z.literal('ack'), updates: updatesSchema }),
  z.object({
    v: z.literal(1),
    type: z.literal('ping-req'),
    target: idSchema,
    timeoutMs: z.number().int().min(1).max(60_000),
    updates: updatesSchema,
  }),
  z.object({ v: z.literal(1), type: z.literal('ping-req-result'), ok: z.boolean(), updates: updatesSchema }),
  z.object({ v: z.literal(1), type: z.literal('gossip'), updates: updatesSchema }),
  z.object({
    v: z.literal(1),
    type: z.literal('push-pull'),
    join: z.boolean(),
    members: z.array(memberRecordSchema).max(100_000),
  }),
]);

/** One piece of membership news, spread by piggybacking on other messages. */
export type MembershipUpdate = z.infer<typeof updateSchema>;
/** A member as carried by a full-state push-pull. */
export type MemberRecord = z.infer<typeof memberRecordSchema>;
/** Every message of the membership protocol; `v` is the wire version. */
export type MembershipMessage = z.infer<typeof messageSchema>;

/** The result of decoding bytes from the network: a valid message, or why it was dropped. */
export type DecodeResult =
  | { readonly ok: true; readonly message: MembershipMessage }
  | { readonly ok: false; readonly reason: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes a message as UTF-8 JSON. */
export function encodeMembershipMessage(message: MembershipMessage): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

/** Decodes and validates bytes from a peer; never throws. */
export function decodeMembershipMessage(bytes: Uint8Array): DecodeResult {
  if (bytes.byteLength > maxMembershipMessageBytes) {
    return { ok: false, reason: `message of ${bytes.byteLength} bytes exceeds ${maxMembershipMessageBytes}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    return { ok: false, reason: `not UTF-8 JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (typeof value === 'object' && value !== null && 'v' in value && value.v !== membershipWireVersion) {
    return { ok: false, reason: `unsupported wire version ${String(value.v)}` };
  }
  const parsed = messageSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `invalid message: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unknown'}`,
    };
  }
  return { ok: true, message: parsed.data };
}
