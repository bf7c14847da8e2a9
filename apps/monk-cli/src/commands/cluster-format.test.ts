import type { PeerEntry } from '@monk/sdk';
import { describe, expect, it } from 'vitest';
import { shortPeerId } from '../render.ts';
import { formatAge, matchPeer, operatorsOf, renderOperators, renderPeers } from './cluster-format.ts';

const idA = '12D3KooWAbcdefghijkLMNOPQRSTUVWxyz1234567890aaaaaa';
const idB = '12D3KooWAbcdefghijkLMNOPQRSTUVWxyz1234567890bbbbbb';

function peer(id: string, overrides: Partial<PeerEntry> = {}): PeerEntry {
  return {
    id,
    name: `node-${id.slice(-1)}`,
    role: 'peer',
    tags: [],
    addresses: [`/ip4/10.0.0.1/tcp/44001/p2p/${id}`],
    state: 'alive',
    containers: 2,
    startedAt: '2025-01-01T00:00:00.000Z',
    self: false,
    ...overrides,
  };
}

describe('peer ids and ages for tables', () => {
  it('shortens long ids and keeps short ones', () => {
    expect(shortPeerId(idA)).toBe('12D3Ko…aaaaaa');
    expect(shortPeerId('peer-1')).toBe('peer-1');
  });

  it('says how long ago', () => {
    const now = new Date('2025-01-03T00:00:00.000Z');
    expect(formatAge('2025-01-02T23:59:15.000Z', now)).toBe('45s ago');
    expect(formatAge('2025-01-02T23:48:00.000Z', now)).toBe('12m ago');
    expect(formatAge('2025-01-02T21:00:00.000Z', now)).toBe('3h ago');
    expect(formatAge('2025-01-01T00:00:00.000Z', now)).toBe('2d ago');
    expect(formatAge('not a date', now)).toBe('-');
  });
});

describe('matchPeer', () => {
  const peers = [peer(idA), peer(idB)];

  it('finds a peer by full id, shortened id, prefix or name', () => {
    expect(matchPeer(peers, idB).id).toBe(idB);
    expect(matchPeer(peers, shortPeerId(idA)).id).toBe(idA);
    expect(matchPeer(peers, `${idA.slice(0, -2)}`).id).toBe(idA);
    expect(matchPeer(peers, 'node-b').id).toBe(idB);
  });

  it('refuses an ambiguous prefix and reports an unknown peer', () => {
    expect(() => matchPeer(peers, '12D3KooW')).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
    expect(() => matchPeer(peers, 'node-z')).toThrow(expect.objectContaining({ code: 'PEER_NOT_FOUND' }));
  });
});

describe('renderPeers', () => {
  it('renders the peers table', () => {
    const now = new Date('2025-01-01T02:00:00.000Z');
    const table = renderPeers(
      [
        peer(idA, {
          self: true,
          tags: ['db', 'ssd'],
          addresses: [...peer(idA).addresses, '/ip6/::1/tcp/44001'],
        }),
        peer(idB, {
          role: 'operator',
          name: 'laptop-operator',
          addresses: [],
          state: 'unknown',
          containers: 0,
        }),
      ],
      now,
    );
    expect(table).toMatchInlineSnapshot(`
      "ID              NAME              ROLE       TAGS     ADDRESSES                      STATE     CONTAINERS   STARTED
      12D3Ko…aaaaaa   node-a (self)     peer       db,ssd   /ip4/10.0.0.1/tcp/44001 (+1)   alive     2            2h ago
      12D3Ko…bbbbbb   laptop-operator   operator            -                              unknown   -            2h ago"
    `);
  });

  it('says below the table what is wrong with a peer', () => {
    const table = renderPeers(
      [
        peer(idA, {
          problems: [{ code: 'STORAGE_FAILED', message: 'could not append to the graph log: no space left' }],
        }),
        peer(idB),
      ],
      new Date('2025-01-01T02:00:00.000Z'),
    );
    expect(table.split('\n').slice(3)).toEqual([
      'node-a: STORAGE_FAILED: could not append to the graph log: no space left',
    ]);
  });
});

describe('renderOperators', () => {
  const now = new Date('2025-01-01T02:00:00.000Z');
  const operator = (id: string, overrides: Partial<PeerEntry>): PeerEntry =>
    peer(id, { role: 'operator', addresses: [], containers: 0, state: 'alive', ...overrides });

  it('lists only the operators, with their access', () => {
    const operators = operatorsOf([
      peer(idA, { self: true }),
      operator(idB, { name: 'ci-operator', access: 'deploy' }),
      operator('12D3KooWAbcdefghijkLMNOPQRSTUVWxyz1234567890cccccc', {
        name: 'old-operator',
        state: 'unknown',
        startedAt: '2025-01-01T01:59:00.000Z',
      }),
    ]);
    expect(operators.map((o) => [o.name, o.access])).toEqual([
      ['ci-operator', 'deploy'],
      ['old-operator', 'unknown'],
    ]);
    expect(renderOperators(operators, now)).toMatchInlineSnapshot(`
      "ID              NAME           ACCESS    STATE     JOINED
      12D3Ko…bbbbbb   ci-operator    deploy    alive     2h ago
      12D3Ko…cccccc   old-operator   unknown   unknown   1m ago"
    `);
  });

  it('says how to add one when there is none', () => {
    expect(renderOperators(operatorsOf([peer(idA)]), now)).toBe(
      'No operators. Mint a token for one with monk cluster join-token --role operator.',
    );
  });
});
