import { MonkError } from '@monk/model';

/**
 * Splits a byte stream into unsigned-varint length-prefixed frames (the lpStream format). Throws
 * `MESSAGE_TOO_LARGE` as soon as a length prefix announces more than `maxMessageBytes`, before buffering the
 * body, and `PROTOCOL_ERROR` on a length prefix that is not a valid varint.
 */
export interface FrameDecoder {
  /** Adds bytes and yields each whole frame; throws only when it reaches a bad one. */
  push(chunk: Uint8Array): Generator<Uint8Array>;
  /** Bytes received that do not form a whole frame yet. */
  pending(): number;
}

// 2^53 needs 8 varint bytes; a longer prefix is garbage.
const maxPrefixBytes = 8;

export function createFrameDecoder(options: {
  readonly maxMessageBytes: number;
  readonly where: string;
}): FrameDecoder {
  let chunks: Uint8Array[] = [];
  let buffered = 0;

  function readPrefix(): { length: number; prefixBytes: number } | undefined {
    let value = 0;
    let scale = 1;
    let index = 0;
    for (const chunk of chunks) {
      for (const byte of chunk) {
        index += 1;
        value += (byte & 0x7f) * scale;
        if ((byte & 0x80) === 0) {
          if (index > 1 && byte === 0) {
            throw new MonkError('PROTOCOL_ERROR', `malformed frame length on ${options.where}`);
          }
          return { length: value, prefixBytes: index };
        }
        scale *= 0x80;
        if (index >= maxPrefixBytes) {
          throw new MonkError('PROTOCOL_ERROR', `malformed frame length on ${options.where}`);
        }
      }
    }
    return undefined;
  }

  return {
    *push(chunk) {
      if (chunk.byteLength > 0) {
        chunks.push(chunk);
        buffered += chunk.byteLength;
      }
      for (;;) {
        const prefix = readPrefix();
        if (prefix === undefined) return;
        if (prefix.length > options.maxMessageBytes) {
          throw new MonkError(
            'MESSAGE_TOO_LARGE',
            `a message on ${options.where} announces ${String(prefix.length)} bytes, more than ${String(options.maxMessageBytes)}`,
          );
        }
        const total = prefix.prefixBytes + prefix.length;
        if (buffered < total) return;
        const joined = chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : concat(chunks, buffered);
        const frame = joined.slice(prefix.prefixBytes, total);
        const rest = joined.subarray(total);
        chunks = rest.byteLength > 0 ? [rest] : [];
        buffered = rest.byteLength;
        yield frame;
      }
    },
    pending: () => buffered,
  };
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const joined = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined;
}
