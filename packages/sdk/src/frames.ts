import type { Readable, Writable } from 'node:stream';
import { MonkError } from '@monk/model';

/** The largest frame either side accepts by default: 16 MiB. */
export const maxFrameBytes = 16 * 1024 * 1024;

/**
 * Reads newline-delimited JSON objects. A line that is not a JSON object is a `PROTOCOL_ERROR`.
 *
 * The size cap applies to the bytes buffered for the line being read, not to whole lines: a peer that
 * sends an endless line without a newline gets `MESSAGE_TOO_LARGE` as soon as it passes `maxLineBytes`,
 * and nothing more is buffered. Ending the iteration (or an error) does not destroy `input`, so the
 * caller can still answer with an error frame before it closes the connection.
 */
export async function* readJsonLines(
  input: Readable,
  maxLineBytes = maxFrameBytes,
): AsyncGenerator<Record<string, unknown>> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of input.iterator({ destroyOnReturn: false })) {
    let data = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    for (;;) {
      const newline = data.indexOf(0x0a);
      if (newline === -1) {
        pendingBytes += data.length;
        if (pendingBytes > maxLineBytes) throw tooLarge(pendingBytes, maxLineBytes);
        if (data.length > 0) pending.push(data);
        break;
      }
      const head = data.subarray(0, newline);
      if (pendingBytes + head.length > maxLineBytes) throw tooLarge(pendingBytes + head.length, maxLineBytes);
      const line = pending.length === 0 ? head : Buffer.concat([...pending, head]);
      pending = [];
      pendingBytes = 0;
      data = data.subarray(newline + 1);
      const frame = parseLine(line);
      if (frame !== undefined) yield frame;
    }
  }
  if (pendingBytes > 0) {
    const frame = parseLine(Buffer.concat(pending));
    if (frame !== undefined) yield frame;
  }
}

function tooLarge(bytes: number, limit: number): MonkError {
  return new MonkError(
    'MESSAGE_TOO_LARGE',
    `a frame of more than ${limit} bytes was sent (${bytes} bytes buffered without a newline); the limit is ${limit} bytes`,
    { details: { limit } },
  );
}

function parseLine(bytes: Buffer): Record<string, unknown> | undefined {
  const line = bytes.toString('utf8').replace(/\r$/, '');
  if (line.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new MonkError('PROTOCOL_ERROR', `malformed frame: ${(error as Error).message}`, { cause: error });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MonkError('PROTOCOL_ERROR', 'malformed frame: expected a JSON object');
  }
  return value as Record<string, unknown>;
}

/** Writes one JSON frame and a newline; resolves when the stream took it (backpressure respected). */
export function writeJsonLine(output: Writable, frame: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    if (output.destroyed || output.writableEnded) {
      reject(new MonkError('CANCELLED', 'the connection is closed'));
      return;
    }
    output.write(`${JSON.stringify(frame)}\n`, (error) => (error ? reject(error) : resolve()));
  });
}
