import type { PeerRecord, PeerState } from '@monk/model';
import type { DeployPeer } from '@monk/planner';

/**
 * The cluster's peers as placement sees them: each recorded peer with the state membership gives it
 * (`unknown` counts as `suspect`: its instances stay, nothing new goes there) and its capacity. This peer
 * is always alive to itself. Pure.
 */
export function deployPeersOf(options: {
  self: string;
  records: readonly PeerRecord[];
  states: ReadonlyMap<string, PeerState | 'unknown'>;
}): DeployPeer[] {
  return options.records.map((record) => {
    const state = record.id === options.self ? 'alive' : (options.states.get(record.id) ?? 'unknown');
    return {
      id: record.id,
      name: record.name,
      role: record.role,
      state: state === 'unknown' ? 'suspect' : state,
      tags: record.tags,
      ...(record.capacity === undefined ? {} : { capacity: record.capacity }),
    };
  });
}
