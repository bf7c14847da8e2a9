import { MonkError } from '@monk/model';

/** A peer as `--peer` may name it. */
export interface PinCandidate {
  readonly id: string;
  readonly name: string;
}

/**
 * The peer `monk run --peer TEXT` pins instances to: the peer whose id is TEXT, else the one named TEXT,
 * else the one whose id starts with TEXT. Throws `PEER_NOT_FOUND` listing the candidates when none or
 * several match. Pure.
 *
 * @example
 * resolvePinnedPeer([{ id: '12D3KooWabc', name: 'local-2' }], 'local-2'); // '12D3KooWabc'
 */
export function resolvePinnedPeer(candidates: readonly PinCandidate[], text: string): string {
  const byId = candidates.find((p) => p.id === text);
  if (byId !== undefined) return byId.id;
  const byName = candidates.filter((p) => p.name === text);
  const matches = byName.length > 0 ? byName : candidates.filter((p) => p.id.startsWith(text));
  const list = (peers: readonly PinCandidate[]): string =>
    peers.map((p) => `${p.name} (${p.id})`).join(', ') || 'none';
  const [only, ...others] = matches;
  if (only === undefined) {
    throw new MonkError(
      'PEER_NOT_FOUND',
      `no peer is named ${text} or has an id starting with it; the peers are: ${list(candidates)}`,
      { details: { peer: text, candidates: candidates.map((p) => p.id) } },
    );
  }
  if (others.length > 0) {
    throw new MonkError(
      'PEER_NOT_FOUND',
      `${text} names more than one peer: ${list(matches)}; give a longer prefix of the id`,
      { details: { peer: text, candidates: matches.map((p) => p.id) } },
    );
  }
  return only.id;
}
