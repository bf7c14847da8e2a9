const encoder = new TextEncoder();

/**
 * The rendezvous (highest-random-weight) weight of a peer for a workload: a 32-bit FNV-1a hash of the UTF-8
 * bytes of `workloadId NUL peerId`, put through murmur3's finaliser so that ids differing only in their
 * last characters still spread evenly. Pure and the same on every machine.
 */
export function rendezvousWeight(workloadId: string, peerId: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(`${workloadId}\u0000${peerId}`)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
