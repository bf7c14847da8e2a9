import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileStore } from './file-store.ts';
import type { GraphStore } from './graph-store.ts';
import { createMemoryStore } from './memory-store.ts';

// One compliance suite for every GraphStore: the file store and its in-memory twin must behave alike.
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const implementations: Array<{
  name: string;
  open: () => Promise<{ first: GraphStore; reopen: () => GraphStore }>;
}> = [
  {
    name: 'memory store',
    open: () => {
      const store = createMemoryStore();
      return Promise.resolve({ first: store, reopen: () => store });
    },
  },
  {
    name: 'file store',
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'monk-graph-store-'));
      dirs.push(dir);
      return { first: createFileStore({ dir }), reopen: () => createFileStore({ dir }) };
    },
  },
];

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

describe.each(implementations)('GraphStore compliance: $name', ({ open }) => {
  it('loads nothing when empty', async () => {
    const { first } = await open();
    expect(await first.load()).toEqual([]);
    await first.close();
  });

  it('returns appended updates in order', async () => {
    const { first, reopen } = await open();
    await Promise.all([first.append(bytes(1)), first.append(bytes(2, 2)), first.append(bytes(3))]);
    expect(await reopen().load()).toEqual([bytes(1), bytes(2, 2), bytes(3)]);
    await first.close();
  });

  it('keeps a copy, not the caller’s buffer', async () => {
    const { first, reopen } = await open();
    const update = bytes(1, 2, 3);
    await first.append(update);
    update[0] = 9;
    expect(await reopen().load()).toEqual([bytes(1, 2, 3)]);
    await first.close();
  });

  it('replaces everything before a compaction by the snapshot', async () => {
    const { first, reopen } = await open();
    await first.append(bytes(1));
    await first.append(bytes(2));
    const compacted = first.compact(bytes(7, 7));
    const after = first.append(bytes(3));
    await Promise.all([compacted, after]);
    expect(await reopen().load()).toEqual([bytes(7, 7), bytes(3)]);
    await first.compact(bytes(8));
    expect(await reopen().load()).toEqual([bytes(8)]);
    await first.close();
  });

  it('rejects writes after close with STORAGE_FAILED', async () => {
    const { first } = await open();
    await first.close();
    await first.close();
    await expect(first.append(bytes(1))).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    await expect(first.compact(bytes(1))).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
  });
});
