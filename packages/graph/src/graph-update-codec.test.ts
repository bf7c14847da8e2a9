import { describe, expect, it } from 'vitest';
import {
  decodeGraphStateVector,
  decodeGraphUpdate,
  encodeGraphStateVector,
  encodeGraphUpdate,
} from './graph-update-codec.ts';
import { makeObserved } from './test-fixtures.ts';

describe('graph update codec', () => {
  it('round-trips updates with delta and full blocks', () => {
    const status = makeObserved({ workloadId: 'w1', peer: 'p', message: 'ünïcode ✓' });
    const update = {
      yjs: new Uint8Array([0, 0]),
      blocks: [
        {
          kind: 'delta' as const,
          peer: 'p',
          from: 3,
          to: 1_700_000_000_000_000,
          entries: [{ key: 'w1', seq: 1_700_000_000_000_000, value: status }],
        },
        { kind: 'full' as const, peer: 'q', to: 9, entries: [{ key: 'w2', seq: 8, value: undefined }] },
      ],
    };
    expect(decodeGraphUpdate(encodeGraphUpdate(update))).toEqual(update);
    expect(decodeGraphUpdate(encodeGraphUpdate({ yjs: undefined, blocks: [] }))).toEqual({
      yjs: undefined,
      blocks: [],
    });
  });

  it('writes observed values canonically, whatever their key order', () => {
    const a = {
      workloadId: 'w',
      peer: 'p',
      phase: 'ready' as const,
      ready: true,
      restarts: 0,
      updatedAt: 't',
    };
    const b = {
      updatedAt: 't',
      restarts: 0,
      ready: true,
      phase: 'ready' as const,
      peer: 'p',
      workloadId: 'w',
    };
    const encode = (value: typeof a) =>
      encodeGraphUpdate({
        yjs: undefined,
        blocks: [{ kind: 'full', peer: 'p', to: 1, entries: [{ key: 'w', seq: 1, value }] }],
      });
    expect(encode(a)).toEqual(encode(b));
  });

  it('round-trips state vectors, sorted by peer', () => {
    const vector = {
      yjs: new Uint8Array([1, 2, 3]),
      observed: new Map([
        ['b', 2],
        ['a', 1],
      ]),
    };
    const decoded = decodeGraphStateVector(encodeGraphStateVector(vector));
    expect([...decoded.observed]).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect(decoded.yjs).toEqual(vector.yjs);
  });

  it('rejects every truncation and garbage with PROTOCOL_ERROR', () => {
    const bytes = encodeGraphUpdate({
      yjs: new Uint8Array([0, 0]),
      blocks: [
        {
          kind: 'delta',
          peer: 'p',
          from: 0,
          to: 1,
          entries: [{ key: 'w', seq: 1, value: makeObserved({ workloadId: 'w', peer: 'p' }) }],
        },
      ],
    });
    for (let length = 0; length < bytes.length; length++) {
      expect(() => decodeGraphUpdate(bytes.subarray(0, length))).toThrow(
        expect.objectContaining({ code: 'PROTOCOL_ERROR' }),
      );
    }
    for (const garbage of [[2], [1, 0, 0, 0], [1, 0, 1, 7], [1, 0, 200, 200, 200, 200, 1]]) {
      expect(() => decodeGraphUpdate(new Uint8Array(garbage))).toThrow(
        expect.objectContaining({ code: 'PROTOCOL_ERROR' }),
      );
    }
    expect(() => decodeGraphStateVector(new Uint8Array([1, 5]))).toThrow(
      expect.objectContaining({ code: 'PROTOCOL_ERROR' }),
    );
  });
});
