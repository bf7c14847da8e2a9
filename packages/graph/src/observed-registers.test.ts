import { describe, expect, it } from 'vitest';
import { createObservedRegisters } from './observed-registers.ts';
import type { ObservedBlock, ObservedRegisters } from './observed-registers.ts';
import type { ObservedWorkload } from '@monk/model';
import { makeObserved } from './test-fixtures.ts';

const sorted = (list: ObservedWorkload[]) =>
  [...list].sort((a, b) => a.workloadId.localeCompare(b.workloadId));
const value = (key: string, restarts = 0) => makeObserved({ workloadId: key, peer: 'p', restarts });

/** Writes `ops` on `source`, returning the blocks each produced. */
function writeAll(
  source: ObservedRegisters,
  ops: Array<[string, number | undefined]>,
  firstSeq: number,
): ObservedBlock[] {
  return ops.map(([key, restarts], i) =>
    source.write({
      peer: 'p',
      key,
      value: restarts === undefined ? undefined : value(key, restarts),
      seq: firstSeq + i,
    }),
  );
}

describe('createObservedRegisters', () => {
  it('keeps one register per key, whatever the number of writes', () => {
    const registers = createObservedRegisters();
    for (let i = 1; i <= 1000; i++)
      registers.write({ peer: 'p', key: `w${i % 3}`, value: value(`w${i % 3}`, i), seq: i });
    expect(registers.list()).toHaveLength(3);
    expect(registers.get('p', 'w1')?.restarts).toBe(1000);
    expect(registers.get('p', 'w2')?.restarts).toBe(998);
    expect(registers.vector()).toEqual(new Map([['p', 1000]]));
  });

  it('applies blocks last-writer-wins by seq, in any order, and ignores stale ones', () => {
    const source = createObservedRegisters();
    const blocks = writeAll(
      source,
      [
        ['a', 1],
        ['a', 2],
        ['b', 1],
        ['a', undefined],
      ],
      1,
    );
    const target = createObservedRegisters();
    for (const block of [...blocks].reverse()) target.apply(block);
    expect(target.get('p', 'a')).toBeUndefined();
    expect(target.get('p', 'b')?.restarts).toBe(1);
    // Out-of-order delivery leaves the prefix behind: only block 1 started at what the target knew.
    expect(target.vector().get('p')).toBe(1);
    const replayed = blocks.map((block) => target.apply(block));
    expect(replayed.flatMap((result) => result.changedKeys)).toEqual([]);
    expect(target.vector().get('p')).toBe(4);
    expect(target.apply(blocks[1]!)).toEqual({ changedKeys: [], changed: false });
  });

  it('does not advance past a gap', () => {
    const source = createObservedRegisters();
    const [first, second, third] = writeAll(
      source,
      [
        ['a', 1],
        ['b', 1],
        ['c', 1],
      ],
      1,
    );
    const target = createObservedRegisters();
    target.apply(first!);
    target.apply(third!);
    expect(target.vector().get('p')).toBe(1);
    target.apply(second!);
    expect(target.vector().get('p')).toBe(2);
    // Catch-up from the lagging prefix brings it level.
    for (const block of source.blocksSince(target.vector())) target.apply(block);
    expect(target.vector().get('p')).toBe(3);
    expect(sorted(target.list())).toEqual(sorted(source.list()));
  });

  it('sends deltas from a known prefix and full state beyond the tombstone horizon', () => {
    const source = createObservedRegisters({ maxTombstones: 1 });
    const lagging = createObservedRegisters();
    writeAll(
      source,
      [
        ['a', 1],
        ['b', 1],
        ['c', 1],
      ],
      1,
    ).forEach((block) => lagging.apply(block));
    writeAll(
      source,
      [
        ['a', undefined],
        ['b', undefined],
        ['c', undefined],
        ['d', 1],
      ],
      4,
    );
    const blocks = source.blocksSince(lagging.vector());
    expect(blocks.map((block) => block.kind)).toEqual(['full']);
    for (const block of blocks) lagging.apply(block);
    expect(lagging.list().map((status) => status.workloadId)).toEqual(['d']);

    const fresh = createObservedRegisters();
    expect(source.blocksSince(undefined).map((block) => block.kind)).toEqual(['full']);
    for (const block of source.blocksSince(undefined)) fresh.apply(block);
    expect(sorted(fresh.list())).toEqual(sorted(source.list()));
    // Level replicas have nothing to send each other.
    expect(source.blocksSince(fresh.vector())).toEqual([]);
  });

  it('serves a delta with tombstones while they are kept', () => {
    const source = createObservedRegisters({ maxTombstones: 10 });
    const lagging = createObservedRegisters();
    writeAll(
      source,
      [
        ['a', 1],
        ['b', 1],
      ],
      1,
    ).forEach((block) => lagging.apply(block));
    writeAll(
      source,
      [
        ['a', undefined],
        ['b', 2],
      ],
      3,
    );
    const blocks = source.blocksSince(lagging.vector());
    expect(blocks).toEqual([
      {
        kind: 'delta',
        peer: 'p',
        from: 2,
        to: 4,
        entries: [
          { key: 'a', seq: 3, value: undefined },
          { key: 'b', seq: 4, value: value('b', 2) },
        ],
      },
    ]);
    for (const block of blocks) lagging.apply(block);
    expect(sorted(lagging.list())).toEqual(sorted(source.list()));
  });

  it('keeps tombstones bounded', () => {
    const registers = createObservedRegisters({ maxTombstones: 5 });
    for (let i = 1; i <= 100; i++) {
      registers.write({ peer: 'p', key: `w${i}`, value: value(`w${i}`), seq: 2 * i - 1 });
      registers.write({ peer: 'p', key: `w${i}`, value: undefined, seq: 2 * i });
    }
    const full = registers.blocksSince(new Map([['p', 199]]));
    expect(full[0]?.kind).toBe('delta');
    // A delta from far back would need pruned tombstones, so it becomes a (here empty) full block.
    expect(registers.blocksSince(new Map([['p', 10]]))).toEqual([
      { kind: 'full', peer: 'p', to: 200, entries: [] },
    ]);
    expect(registers.latest('p')).toBe(200);
  });
});
