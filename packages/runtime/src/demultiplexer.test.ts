import { describe, expect, it } from 'vitest';
import { createDemultiplexer } from './demultiplexer.ts';
import type { OutputFrame } from './demultiplexer.ts';

const frame = (type: number, text: string): Buffer => {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
};

const joined = (frames: OutputFrame[]) => {
  const out = { stdout: '', stderr: '' };
  for (const f of frames) out[f.stream] += f.data.toString();
  return out;
};

describe('createDemultiplexer', () => {
  const stream = Buffer.concat([
    frame(1, 'out-1\n'),
    frame(2, 'err-1\n'),
    frame(1, ''),
    frame(1, 'out-2\nmore'),
  ]);

  it('separates stdout and stderr wherever the chunks are cut', () => {
    for (let first = 0; first <= stream.length; first++) {
      for (const second of [first, Math.min(stream.length, first + 3), Math.min(stream.length, first + 9)]) {
        const demultiplexer = createDemultiplexer();
        const frames = [
          ...demultiplexer.push(stream.subarray(0, first)),
          ...demultiplexer.push(stream.subarray(first, second)),
          ...demultiplexer.push(stream.subarray(second)),
          ...demultiplexer.flush(),
        ];
        expect(joined(frames), `cut at ${first} and ${second}`).toEqual({
          stdout: 'out-1\nout-2\nmore',
          stderr: 'err-1\n',
        });
      }
    }
  });

  it('passes a raw (TTY) stream through as stdout', () => {
    const demultiplexer = createDemultiplexer();
    const frames = [
      ...demultiplexer.push(Buffer.from('hello, terminal\r\n')),
      ...demultiplexer.push(Buffer.from('x')),
    ];
    expect(joined(frames)).toEqual({ stdout: 'hello, terminal\r\nx', stderr: '' });
  });

  it('returns the bytes of a truncated frame on flush', () => {
    const demultiplexer = createDemultiplexer();
    expect(demultiplexer.push(frame(1, 'abcdef').subarray(0, 10))).toEqual([]);
    expect(joined(demultiplexer.flush()).stdout).toHaveLength(10);
  });
});
