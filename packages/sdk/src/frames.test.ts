import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readJsonLines } from './frames.ts';

async function collect(chunks: readonly (string | Buffer)[], limit?: number): Promise<unknown[]> {
  const input = new PassThrough();
  for (const chunk of chunks) input.write(chunk);
  input.end();
  const frames: unknown[] = [];
  for await (const frame of readJsonLines(input, limit)) frames.push(frame);
  return frames;
}

describe('readJsonLines', () => {
  it('reassembles frames split across chunks, several per chunk, and a last one without a newline', async () => {
    const frames = await collect(['{"a":', '1}\n{"b":2}\n\n{"c"', ':"é"}\r\n{"d":4}']);
    expect(frames).toEqual([{ a: 1 }, { b: 2 }, { c: 'é' }, { d: 4 }]);
  });

  it('refuses a line as soon as the bytes buffered without a newline pass the cap', async () => {
    const input = new PassThrough();
    const reading = (async () => {
      for await (const frame of readJsonLines(input, 1024)) void frame;
    })();
    input.write('{"ok":true}\n{');
    // Never ends: the cap must trigger on buffered bytes, not on a complete line.
    for (let i = 0; i < 8; i++) input.write(Buffer.alloc(256, 0x61));
    await expect(reading).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE', details: { limit: 1024 } });
    expect(input.destroyed).toBe(false);
  });

  it('refuses a complete line over the cap and accepts one at the cap', async () => {
    const atCap = `{"a":"${'x'.repeat(1024 - 8)}"}`;
    expect(atCap.length).toBe(1024);
    await expect(collect([`${atCap}\n`], 1024)).resolves.toHaveLength(1);
    await expect(collect([`${atCap} \n`], 1024)).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
  });

  it('names a malformed frame a PROTOCOL_ERROR', async () => {
    await expect(collect(['[1,2]\n'])).rejects.toMatchObject({ code: 'PROTOCOL_ERROR' });
    await expect(collect(['{nope\n'])).rejects.toMatchObject({ code: 'PROTOCOL_ERROR' });
  });
});
