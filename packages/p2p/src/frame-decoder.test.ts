import { describe, expect, it } from 'vitest';
import { createFrameDecoder } from './frame-decoder.ts';
import { encodeFrame } from './libp2p-streams.ts';

const decoder = (maxMessageBytes = 1 << 20) => createFrameDecoder({ maxMessageBytes, where: 'test' });

describe('frame decoder', () => {
  it('reassembles frames split at every byte boundary', () => {
    const messages = [new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(300).fill(9)];
    const wire = Uint8Array.from(messages.flatMap((message) => [...encodeFrame(message)]));
    for (let cut = 0; cut <= wire.byteLength; cut += 1) {
      const frames = decoder();
      const out = [...frames.push(wire.subarray(0, cut)), ...frames.push(wire.subarray(cut))];
      expect(out).toEqual(messages);
      expect(frames.pending()).toBe(0);
    }
  });

  it('refuses an oversized frame from its length prefix alone', () => {
    const frames = decoder(10);
    expect(() => [...frames.push(encodeFrame(new Uint8Array(11)).subarray(0, 1))]).toThrow(
      expect.objectContaining({ code: 'MESSAGE_TOO_LARGE' }),
    );
  });

  it('yields the good frames before a bad one', () => {
    const frames = decoder(10);
    const wire = Uint8Array.from([...encodeFrame(new Uint8Array([7])), ...encodeFrame(new Uint8Array(50))]);
    const iterator = frames.push(wire);
    expect(iterator.next().value).toEqual(new Uint8Array([7]));
    expect(() => iterator.next()).toThrow(expect.objectContaining({ code: 'MESSAGE_TOO_LARGE' }));
  });

  it.each([
    ['an endless varint', new Uint8Array(12).fill(0xff)],
    ['a non-minimal varint', new Uint8Array([0x80, 0x00])],
  ])('refuses %s with PROTOCOL_ERROR', (_name, wire) => {
    expect(() => [...decoder().push(wire)]).toThrow(expect.objectContaining({ code: 'PROTOCOL_ERROR' }));
  });

  it('encodes lengths as unsigned LEB128', () => {
    expect([...encodeFrame(new Uint8Array(300))].slice(0, 2)).toEqual([0xac, 0x02]);
  });
});
