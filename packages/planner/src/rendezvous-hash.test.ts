import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rendezvousWeight } from './rendezvous-hash.ts';

// Set MONK_TEST_SEED to replay a failure; fast-check prints the seed and path of any counterexample.
const seed = Number(process.env['MONK_TEST_SEED'] ?? 20_250_101);

/** Strings over every UTF-8 length class, lone surrogates included (fc.string's binary unit is slow). */
const anyString = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0, max: 0x7f }),
      fc.integer({ min: 0x80, max: 0x7ff }),
      fc.integer({ min: 0x800, max: 0xffff }),
      fc.integer({ min: 0xd800, max: 0xdfff }),
      fc.integer({ min: 0x10000, max: 0x10ffff }),
    ),
    { maxLength: 12 },
  )
  .map((points) => String.fromCodePoint(...points));

/** The definition, spelled the slow way: FNV-1a over TextEncoder's bytes, then murmur3's finaliser. */
function reference(workloadId: string, peerId: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(`${workloadId}\u0000${peerId}`)) {
    hash = Math.imul(hash ^ byte, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

describe('rendezvousWeight', () => {
  it('is pinned: the same weights on every machine and every release', () => {
    const weights = [
      rendezvousWeight('ns/app#web', 'peer-a'),
      rendezvousWeight('ns/app#web', 'peer-b'),
      rendezvousWeight('ns/café#wéb', '😀'),
    ];
    expect(weights).toMatchInlineSnapshot(`
      [
        1490822830,
        1953897752,
        980630297,
      ]
    `);
  });

  it('hashes the UTF-8 bytes of any string, lone surrogates included', () => {
    fc.assert(
      fc.property(anyString, anyString, (workloadId, peerId) => {
        expect(rendezvousWeight(workloadId, peerId)).toBe(reference(workloadId, peerId));
      }),
      { seed, numRuns: 200 },
    );
  });

  it('separates the workload id from the peer id', () => {
    expect(rendezvousWeight('ab', 'c')).not.toBe(rendezvousWeight('a', 'bc'));
  });
});
