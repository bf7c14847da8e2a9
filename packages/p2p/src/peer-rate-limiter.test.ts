import { describe, expect, it } from 'vitest';
import { createPeerRateLimiter } from './peer-rate-limiter.ts';

describe('peer rate limiter', () => {
  it('allows a burst of the rate, then refills over time, per peer', () => {
    let now = 0;
    const limiter = createPeerRateLimiter({ ratePerSecond: 3, now: () => now });
    expect([1, 2, 3, 4].map(() => limiter.tryTake('a'))).toEqual([true, true, true, false]);
    expect(limiter.tryTake('b')).toBe(true);
    now += 340;
    expect(limiter.tryTake('a')).toBe(true);
    expect(limiter.tryTake('a')).toBe(false);
    now += 10_000;
    expect([1, 2, 3, 4].map(() => limiter.tryTake('a'))).toEqual([true, true, true, false]);
  });

  it('never limits an infinite rate', () => {
    const limiter = createPeerRateLimiter({ ratePerSecond: Number.POSITIVE_INFINITY });
    expect(Array.from({ length: 10_000 }, () => limiter.tryTake('a')).every(Boolean)).toBe(true);
  });
});
