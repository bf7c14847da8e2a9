import { describe, expect, it } from 'vitest';
import { createBroadcastQueue } from './broadcast-queue.ts';

describe('broadcast queue', () => {
  it('keeps one update per member, the newest', () => {
    const queue = createBroadcastQueue({ limit: () => 3 });
    queue.enqueue({ kind: 'alive', id: 'a', incarnation: 1, meta: {} });
    queue.enqueue({ kind: 'suspect', id: 'a', incarnation: 1, from: 'b' });
    expect(queue.size).toBe(1);
    expect(queue.get('a')?.kind).toBe('suspect');
  });

  it('hands out least-transmitted updates first and drops them after the limit', () => {
    const queue = createBroadcastQueue({ limit: () => 2 });
    queue.enqueue({ kind: 'left', id: 'a', incarnation: 0 });
    queue.enqueue({ kind: 'left', id: 'b', incarnation: 0 });
    expect(queue.take(1).map((update) => update.id)).toEqual(['b']);
    expect(queue.take(1).map((update) => update.id)).toEqual(['a']);
    expect(queue.take(5).map((update) => update.id)).toEqual(['b', 'a']);
    expect(queue.size).toBe(0);
    expect(queue.take(5)).toEqual([]);
  });

  it('forgets dropped members and gives nothing for a zero budget', () => {
    const queue = createBroadcastQueue({ limit: () => 5 });
    queue.enqueue({ kind: 'left', id: 'a', incarnation: 0 });
    expect(queue.take(0)).toEqual([]);
    queue.drop('a');
    expect(queue.get('a')).toBeUndefined();
  });
});
