import type { Timers } from './timers.ts';

/** A Lifeguard suspicion timer: it fires sooner as independent members confirm the suspicion. */
export interface Suspicion {
  /** Counts a confirmation from `from`; true when it was new and shortened the timeout. */
  confirm(from: string): boolean;
  cancel(): void;
}

export interface SuspicionOptions {
  readonly timers: Timers;
  /** The member whose suspicion started the timer (not counted as a confirmation). */
  readonly from: string;
  /** Confirmations that bring the timeout down to `minMs`. */
  readonly confirmations: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly onTimeout: () => void;
}

/**
 * Starts a suspicion timer at `maxMs`; each new confirmation shrinks it logarithmically towards `minMs`
 * (timeout = max(min, max − (max − min) · log(c + 1) / log(k + 1)), Lifeguard §IV-B).
 */
export function createSuspicion(options: SuspicionOptions): Suspicion {
  const { timers, confirmations, minMs, maxMs } = options;
  const start = timers.now();
  const seen = new Set<string>([options.from]);
  let count = 0;
  let fired = false;
  let cancelTimer: () => void = () => {};

  const timeoutFor = (c: number): number => {
    if (confirmations <= 0) return minMs;
    const fraction = Math.log(c + 1) / Math.log(confirmations + 1);
    return Math.max(minMs, Math.floor(maxMs - (maxMs - minMs) * fraction));
  };
  const schedule = (): void => {
    cancelTimer();
    const remaining = Math.max(0, start + timeoutFor(count) - timers.now());
    cancelTimer = timers.setTimeout(() => {
      fired = true;
      options.onTimeout();
    }, remaining);
  };
  schedule();

  return {
    confirm(from) {
      if (fired || count >= confirmations || seen.has(from)) return false;
      seen.add(from);
      count += 1;
      schedule();
      return true;
    },
    cancel() {
      fired = true;
      cancelTimer();
    },
  };
}
