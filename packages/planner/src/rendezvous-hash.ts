const fnvOffset = 0x811c9dc5;
const fnvPrime = 0x01000193;

/**
 * The rendezvous (highest-random-weight) weights of peers for one workload: a 32-bit FNV-1a hash of the
 * UTF-8 bytes of `workloadId NUL peerId` (lone surrogates as U+FFFD, like TextEncoder), put through
 * murmur3's finaliser so that ids differing only in their last characters still spread evenly. Pure and
 * the same on every machine. The workload's part of the hash is computed once, then reused for each peer.
 */
export function rendezvousScorer(workloadId: string): (peerId: string) => number {
  const prefix = fnv1a(fnv1a(fnvOffset, workloadId), '\u0000');
  return (peerId) => finalize(fnv1a(prefix, peerId));
}

/** {@link rendezvousScorer} for a single pair. */
export function rendezvousWeight(workloadId: string, peerId: string): number {
  return rendezvousScorer(workloadId)(peerId);
}

function fnv1a(start: number, text: string): number {
  let hash = start;
  const byte = (value: number): void => {
    hash = Math.imul(hash ^ value, fnvPrime);
  };
  for (const character of text) {
    let point = character.codePointAt(0) ?? 0xfffd;
    if (point >= 0xd800 && point <= 0xdfff) point = 0xfffd;
    if (point < 0x80) {
      byte(point);
    } else if (point < 0x800) {
      byte(0xc0 | (point >> 6));
      byte(0x80 | (point & 0x3f));
    } else if (point < 0x10000) {
      byte(0xe0 | (point >> 12));
      byte(0x80 | ((point >> 6) & 0x3f));
      byte(0x80 | (point & 0x3f));
    } else {
      byte(0xf0 | (point >> 18));
      byte(0x80 | ((point >> 12) & 0x3f));
      byte(0x80 | ((point >> 6) & 0x3f));
      byte(0x80 | (point & 0x3f));
    }
  }
  return hash;
}

function finalize(value: number): number {
  let hash = value;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
