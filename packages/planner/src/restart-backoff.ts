import type { RecoveryPolicy } from '@monk/model';

/**
 * How long to wait before the next restart of a workload that has already been restarted `restarts` times:
 * `initialBackoffMs * 2^restarts`, capped at `maxBackoffMs`. Never throws: a negative or non-finite count
 * counts as 0, and an overflowing power is capped like any other.
 *
 * @example
 * nextRestartDelay({ restart: 'always', initialBackoffMs: 1_000, maxBackoffMs: 60_000 }, 3) // 8_000
 */
export function nextRestartDelay(policy: RecoveryPolicy, restarts: number): number {
  const count = Number.isFinite(restarts) && restarts > 0 ? Math.floor(restarts) : 0;
  return Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** count);
}
