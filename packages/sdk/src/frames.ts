import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { MonkError } from '@monk/model';

/** Reads newline-delimited JSON objects; a line that is not a JSON object is a PROTOCOL_ERROR. */
export async function* readJsonLines(
  input: Readable,
  maxLineBytes = 16 * 1024 * 1024,
): AsyncGenerator<Record<string, unknown>> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.length === 0) continue;
    if (line.length > maxLineBytes) {
      throw new MonkError('MESSAGE_TOO_LARGE', `a frame of ${line.length} bytes exceeds ${maxLineBytes}`);
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new MonkError('PROTOCOL_ERROR', `malformed frame: ${(error as Error).message}`, { cause: error });
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new MonkError('PROTOCOL_ERROR', 'malformed frame: expected a JSON object');
    }
    yield value as Record<string, unknown>;
  }
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
