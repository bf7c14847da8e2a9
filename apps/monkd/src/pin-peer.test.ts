import { describe, expect, it } from 'vitest';
import { resolvePinnedPeer } from './pin-peer.ts';

const peers = [
  { id: '12D3KooWAlpha1', name: 'root' },
  { id: '12D3KooWAlpha2', name: 'local-1' },
  { id: '12D3KooWBeta', name: 'local-2' },
];

describe('resolvePinnedPeer', () => {
  it.each([
    { text: '12D3KooWBeta', expected: '12D3KooWBeta' },
    { text: 'local-1', expected: '12D3KooWAlpha2' },
    { text: '12D3KooWB', expected: '12D3KooWBeta' },
    { text: '12D3KooWAlpha1', expected: '12D3KooWAlpha1' },
  ])('$text is $expected', ({ text, expected }) => {
    expect(resolvePinnedPeer(peers, text)).toBe(expected);
  });

  it('lists every peer when none matches', () => {
    expect(() => resolvePinnedPeer(peers, 'local-9')).toThrow(
      expect.objectContaining({
        code: 'PEER_NOT_FOUND',
        message:
          'no peer is named local-9 or has an id starting with it; the peers are: root (12D3KooWAlpha1), local-1 (12D3KooWAlpha2), local-2 (12D3KooWBeta)',
      }),
    );
  });

  it('lists the peers an ambiguous prefix matches', () => {
    expect(() => resolvePinnedPeer(peers, '12D3KooWAlpha')).toThrow(
      expect.objectContaining({
        code: 'PEER_NOT_FOUND',
        message:
          '12D3KooWAlpha names more than one peer: root (12D3KooWAlpha1), local-1 (12D3KooWAlpha2); give a longer prefix of the id',
      }),
    );
  });
});
