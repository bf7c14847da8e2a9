import { describe, expect, it } from 'vitest';
import { nextRestartDelay } from './restart-backoff.ts';

const policy = { restart: 'always', initialBackoffMs: 1_000, maxBackoffMs: 60_000 } as const;

describe('nextRestartDelay', () => {
  it.each([
    [0, 1_000],
    [1, 2_000],
    [3, 8_000],
    [5, 32_000],
    [6, 60_000],
    [1_100, 60_000],
    [-1, 1_000],
    [Number.NaN, 1_000],
    [2.7, 4_000],
  ])('after %d restarts waits %d ms', (restarts, delay) => {
    expect(nextRestartDelay(policy, restarts)).toBe(delay);
  });

  it('never exceeds the cap, even when the first delay is larger', () => {
    expect(nextRestartDelay({ ...policy, initialBackoffMs: 90_000 }, 0)).toBe(60_000);
  });
});
