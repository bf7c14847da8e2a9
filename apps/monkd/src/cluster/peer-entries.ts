import { defaultOperatorAccess, type PeerRecord, type PeerState } from '@monk/model';
import { peerProblemsSchema, type PeerEntry, type PeerProblem } from '@monk/sdk';

/**
 * The rows of `monk cluster peers`: the graph's peer records joined with membership states, container
 * counts and problems; this peer first, then by name. Pure.
 *
 * @example
 * const rows = peerEntriesOf({ self, peers: graph.listPeers(), workloads: graph.listWorkloads(), stateOf, problemsOf });
 */
export function peerEntriesOf(input: {
  readonly self: string;
  readonly peers: readonly PeerRecord[];
  readonly workloads: readonly { readonly owner: string }[];
  readonly stateOf: (peerId: string) => PeerState | 'unknown';
  readonly problemsOf: (peerId: string) => readonly PeerProblem[];
}): PeerEntry[] {
  const { self } = input;
  return input.peers
    .map((p) => {
      const problems = input.problemsOf(p.id);
      return {
        id: p.id,
        name: p.name,
        role: p.role,
        tags: p.tags,
        addresses: p.addresses,
        state: input.stateOf(p.id),
        containers: input.workloads.filter((w) => w.owner === p.id).length,
        startedAt: p.joinedAt,
        self: p.id === self,
        ...(problems.length === 0 ? {} : { problems: [...problems] }),
        ...(p.role === 'operator' ? { access: p.access ?? defaultOperatorAccess } : {}),
        ...(p.wireguard === undefined ? {} : { mesh: p.wireguard }),
      };
    })
    .sort((a, b) => Number(b.self) - Number(a.self) || a.name.localeCompare(b.name));
}

/** The problems another peer told in its membership meta; none when absent or malformed. */
export function problemsOfMeta(meta: Readonly<Record<string, string>> | undefined): PeerProblem[] {
  const told = meta?.['problems'];
  if (told === undefined) return [];
  try {
    const parsed = peerProblemsSchema.safeParse(JSON.parse(told));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}
