/** The live set of member peer ids a node talks to. The node itself is always a member. */
export interface AllowList {
  has(peerId: string): boolean;
  /** Replaces the set and returns the ids that were removed. */
  replace(peerIds: Iterable<string>): string[];
  list(): string[];
}

export function createAllowList(options: { self: string; initial: Iterable<string> }): AllowList {
  let members = new Set<string>(options.initial);
  return {
    has: (peerId) => peerId === options.self || members.has(peerId),
    replace(peerIds) {
      const next = new Set(peerIds);
      const removed = [...members].filter((peerId) => !next.has(peerId) && peerId !== options.self);
      members = next;
      return removed;
    },
    list: () => [...new Set([options.self, ...members])].sort(),
  };
}
