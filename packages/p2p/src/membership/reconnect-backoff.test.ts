import { describe, expect, it } from 'vitest';
import { reconnectDelay, type ReconnectBackoff } from './reconnect-backoff.ts';

const backoff: ReconnectBackoff = {
  initialMs: 250,
  maxMs: 1_000,
  jitter: 0.2,
  fastForMs: 300_000,
  slowIntervalMs: 10_000,
};

describe('reconnectDelay', () => {
  it.each([
    { attempt: 0, deadForMs: 0, expected: 250 },
    { attempt: 1, deadForMs: 300, expected: 500 },
    { attempt: 2, deadForMs: 900, expected: 1_000 },
    { attempt: 40, deadForMs: 60_000, expected: 1_000 },
    { attempt: 3, deadForMs: 300_000, expected: 10_000 },
  ])(
    'attempt $attempt, dead for $deadForMs ms: $expected ms (without jitter)',
    ({ attempt, deadForMs, expected }) => {
      expect(reconnectDelay({ attempt, deadForMs }, backoff, () => 0.5)).toBe(expected);
    },
  );

  it('spreads each delay by at most the jitter fraction', () => {
    expect(reconnectDelay({ attempt: 5, deadForMs: 0 }, backoff, () => 0)).toBe(800);
    expect(reconnectDelay({ attempt: 5, deadForMs: 0 }, backoff, () => 0.999_999)).toBe(1_200);
  });
});
