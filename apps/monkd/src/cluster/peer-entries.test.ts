import { describe, expect, it } from 'vitest';
import type { PeerRecord } from '@monk/model';
import { peerEntriesOf, problemsOfMeta } from './peer-entries.ts';

const record = (id: string, name: string, role: PeerRecord['role'] = 'peer'): PeerRecord => ({
  id,
  name,
  role,
  tags: [],
  addresses: [],
  joinedAt: '2026-01-01T00:00:00.000Z',
});

describe('peerEntriesOf', () => {
  it('lists this peer first, then by name, with states, container counts, problems and operator access', () => {
    const entries = peerEntriesOf({
      self: 'b',
      peers: [record('c', 'zulu'), record('a', 'alpha'), record('b', 'mike'), record('o', 'ops', 'operator')],
      workloads: [{ owner: 'a' }, { owner: 'a' }, { owner: 'b' }],
      stateOf: (id) => (id === 'c' ? 'dead' : 'alive'),
      problemsOf: (id) => (id === 'a' ? [{ code: 'DISK_FULL', message: 'the data dir is full' }] : []),
    });
    expect(entries.map((e) => [e.name, e.self, e.state, e.containers])).toEqual([
      ['mike', true, 'alive', 1],
      ['alpha', false, 'alive', 2],
      ['ops', false, 'alive', 0],
      ['zulu', false, 'dead', 0],
    ]);
    expect(entries[1]?.problems).toEqual([{ code: 'DISK_FULL', message: 'the data dir is full' }]);
    expect(entries[0]).not.toHaveProperty('problems');
    expect(entries[2]?.access).toBe('deploy');
    expect(entries[0]).not.toHaveProperty('access');
  });
});

describe('problemsOfMeta', () => {
  it('reads the problems a peer told, and none from absent, malformed or oversized meta', () => {
    const told = [{ code: 'DISK_FULL', message: 'full' }];
    expect(problemsOfMeta({ problems: JSON.stringify(told) })).toEqual(told);
    expect(problemsOfMeta(undefined)).toEqual([]);
    expect(problemsOfMeta({ name: 'host-a' })).toEqual([]);
    expect(problemsOfMeta({ problems: '{not json' })).toEqual([]);
    expect(problemsOfMeta({ problems: JSON.stringify([{ code: 'X'.repeat(65), message: '' }]) })).toEqual([]);
  });
});
