/** A token bucket per peer: `ratePerSecond` tokens per second, bursts of up to `ratePerSecond`. */
export interface PeerRateLimiter {
  /** Takes one token for `peerId`; false when its bucket is empty. */
  tryTake(peerId: string): boolean;
}

export interface PeerRateLimiterOptions {
  readonly ratePerSecond: number;
  /** Milliseconds clock, injectable for tests. Default `performance.now`. */
  readonly now?: () => number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

// Buckets of peers idle long enough to be full again are dropped, so the map stays bounded by active peers.
const sweepEvery = 1024;

export function createPeerRateLimiter(options: PeerRateLimiterOptions): PeerRateLimiter {
  const rate = options.ratePerSecond;
  const now = options.now ?? (() => performance.now());
  const buckets = new Map<string, Bucket>();
  let takes = 0;

  function refill(bucket: Bucket, at: number): void {
    bucket.tokens = Math.min(rate, bucket.tokens + ((at - bucket.updatedAt) / 1000) * rate);
    bucket.updatedAt = at;
  }

  function sweep(at: number): void {
    for (const [peerId, bucket] of buckets) {
      refill(bucket, at);
      if (bucket.tokens >= rate) buckets.delete(peerId);
    }
  }

  return {
    tryTake(peerId) {
      if (!Number.isFinite(rate)) return true;
      const at = now();
      takes += 1;
      if (takes % sweepEvery === 0) sweep(at);
      let bucket = buckets.get(peerId);
      if (bucket === undefined) {
        bucket = { tokens: rate, updatedAt: at };
        buckets.set(peerId, bucket);
      }
      refill(bucket, at);
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
      return true;
    },
  };
}
