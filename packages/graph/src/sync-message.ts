import { MonkError } from '@monk/model';

/** Version of the sync framing; a peer speaking another one is rejected per message, never crashed on. */
export const syncProtocolVersion = 1;

/**
 * Message types of the graph sync protocol.
 * - `state-vector`: "this is what I have" (sent on connect and on anti-entropy rounds).
 * - `catch-up`: the answer to a state vector: exactly what the asker lacks.
 * - `update`: a new change, flooded to every connected peer and relayed onward.
 */
export const syncMessageTypes = { 'state-vector': 1, 'catch-up': 2, update: 3 } as const;
export type SyncMessageType = keyof typeof syncMessageTypes;

export interface SyncMessage {
  readonly type: SyncMessageType;
  /** A graph state vector (`state-vector`) or a graph update (`catch-up`, `update`). */
  readonly body: Uint8Array;
}

/** `[u8 version][u8 type][body]`. */
export function encodeSyncMessage(message: SyncMessage): Uint8Array {
  const out = new Uint8Array(2 + message.body.length);
  out[0] = syncProtocolVersion;
  out[1] = syncMessageTypes[message.type];
  out.set(message.body, 2);
  return out;
}

export type DecodeResult =
  { readonly ok: true; readonly message: SyncMessage } | { readonly ok: false; readonly error: MonkError };

/** Decodes a frame; malformed input is an error result, never an exception. */
export function decodeSyncMessage(bytes: Uint8Array): DecodeResult {
  const fail = (why: string): DecodeResult => ({
    ok: false,
    error: new MonkError('PROTOCOL_ERROR', `malformed graph sync message: ${why}`),
  });
  if (bytes.length < 2) return fail(`${bytes.length} bytes is too short`);
  if (bytes[0] !== syncProtocolVersion) return fail(`unsupported protocol version ${String(bytes[0])}`);
  const type = (Object.keys(syncMessageTypes) as SyncMessageType[]).find(
    (name) => syncMessageTypes[name] === bytes[1],
  );
  if (type === undefined) return fail(`unknown message type ${String(bytes[1])}`);
  return { ok: true, message: { type, body: bytes.subarray(2) } };
}
