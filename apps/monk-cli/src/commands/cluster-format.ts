import { MonkError } from '@monk/model';
import type { MonkClient, PeerEntry } from '@monk/sdk';
import { renderTable, shortPeerId } from '../render.ts';

/** How long ago an instant was, for tables: `45s`, `12m`, `3h`, `2d`; `-` when unreadable. */
export function formatAge(iso: string, now: Date): string {
  const ms = now.getTime() - Date.parse(iso);
  if (!Number.isFinite(ms)) return '-';
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${String(seconds)}s ago`;
  if (seconds < 3600) return `${String(Math.floor(seconds / 60))}m ago`;
  if (seconds < 86_400) return `${String(Math.floor(seconds / 3600))}h ago`;
  return `${String(Math.floor(seconds / 86_400))}d ago`;
}

/** The table of `monk cluster peers`. */
export function renderPeers(peers: readonly PeerEntry[], now: Date): string {
  return renderTable(
    ['ID', 'NAME', 'ROLE', 'TAGS', 'ADDRESSES', 'STATE', 'CONTAINERS', 'STARTED'],
    peers.map((peer) => {
      // The id column already says who; the table keeps only the transport part of each address.
      const addresses = peer.addresses.map((a) => a.replace(/\/p2p\/[^/]+$/, ''));
      const more = addresses.length > 1 ? ` (+${String(addresses.length - 1)})` : '';
      return [
        shortPeerId(peer.id),
        peer.self ? `${peer.name} (self)` : peer.name,
        peer.role,
        peer.tags.join(','),
        addresses.length === 0 ? '-' : `${addresses[0] ?? ''}${more}`,
        peer.state,
        peer.role === 'operator' ? '-' : String(peer.containers),
        formatAge(peer.startedAt, now),
      ];
    }),
  ).concat(
    peers
      .flatMap((peer) => (peer.problems ?? []).map((p) => `\n${peer.name}: ${p.code}: ${p.message}`))
      .join(''),
  );
}

/** One row of `monk cluster operators`. */
export interface OperatorEntry {
  readonly id: string;
  readonly name: string;
  readonly access: string;
  readonly state: PeerEntry['state'];
  readonly joinedAt: string;
}

/** The operators among the members of `monk cluster peers`, with their access. */
export function operatorsOf(peers: readonly PeerEntry[]): OperatorEntry[] {
  return peers
    .filter((peer) => peer.role === 'operator')
    .map((peer) => ({
      id: peer.id,
      name: peer.name,
      // A peer of an older monk records no access level for its operators.
      access: peer.access ?? 'unknown',
      state: peer.state,
      joinedAt: peer.startedAt,
    }));
}

/** The table of `monk cluster operators`. */
export function renderOperators(operators: readonly OperatorEntry[], now: Date): string {
  if (operators.length === 0) {
    return 'No operators. Mint a token for one with monk cluster join-token --role operator.';
  }
  return renderTable(
    ['ID', 'NAME', 'ACCESS', 'STATE', 'JOINED'],
    operators.map((o) => [shortPeerId(o.id), o.name, o.access, o.state, formatAge(o.joinedAt, now)]),
  );
}

/**
 * The full peer id a user meant: a full id, a shortened one (`12D3Ko…x7Yz9q`), a unique prefix or a
 * peer's name. Throws `PEER_NOT_FOUND` when nothing matches and `INVALID_REQUEST` when several do.
 */
export function matchPeer(peers: readonly PeerEntry[], text: string): PeerEntry {
  const exact = peers.find((peer) => peer.id === text);
  if (exact !== undefined) return exact;
  const [head, tail] = text.split('…');
  const candidates = peers.filter((peer) =>
    tail !== undefined && head !== undefined
      ? peer.id.startsWith(head) && peer.id.endsWith(tail)
      : peer.name === text || peer.id.startsWith(text),
  );
  const [only, ...others] = candidates;
  if (only === undefined) {
    throw new MonkError('PEER_NOT_FOUND', `no peer of this cluster has the id or name ${text}`);
  }
  if (others.length > 0) {
    throw new MonkError(
      'INVALID_REQUEST',
      `${text} matches several peers (${candidates.map((p) => `${p.name} ${p.id}`).join(', ')}); give the full id`,
    );
  }
  return only;
}

/**
 * Resolves what the user typed to a peer id through `cluster.peers`. A full-length id that is not listed
 * is passed on as it is: the daemon has the last word on it.
 */
export async function resolvePeerId(client: MonkClient, text: string): Promise<string> {
  const peers = (await client.call('cluster.peers', {})) as PeerEntry[];
  if (/^(12D3KooW|Qm)[1-9A-HJ-NP-Za-km-z]{40,}$/.test(text) && !peers.some((p) => p.id === text)) return text;
  return matchPeer(peers, text).id;
}
