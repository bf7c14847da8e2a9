import { MonkError, deserializeError, toMonkError } from '@monk/model';

// A response is one frame: a status byte, then the payload (ok) or a JSON SerializedError (error).
const statusOk = 0;
const statusError = 1;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Frames a successful response. */
export function encodeOkResponse(payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(payload.byteLength + 1);
  frame[0] = statusOk;
  frame.set(payload, 1);
  return frame;
}

/** Frames an error response; anything that is not a MonkError travels as `INTERNAL`. */
export function encodeErrorResponse(error: unknown): Uint8Array {
  const json = encoder.encode(JSON.stringify(toMonkError(error).toJSON()));
  const frame = new Uint8Array(json.byteLength + 1);
  frame[0] = statusError;
  frame.set(json, 1);
  return frame;
}

/**
 * Reads a response frame: returns the payload, or throws the remote's MonkError (same code). A frame that is
 * neither throws `PROTOCOL_ERROR`.
 */
export function decodeResponse(frame: Uint8Array, where: string): Uint8Array {
  const status = frame[0];
  if (status === statusOk) return frame.subarray(1);
  if (status === statusError) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(decoder.decode(frame.subarray(1)));
    } catch (cause) {
      throw new MonkError('PROTOCOL_ERROR', `malformed error frame from ${where}`, { cause });
    }
    throw deserializeError(parsed);
  }
  throw new MonkError('PROTOCOL_ERROR', `malformed response frame from ${where} (status ${String(status)})`);
}
