/**
 * The clock and timers membership runs on, injected so that tests run in virtual time.
 *
 * @example
 * const cancel = timers.setTimeout(() => probe(), 500);
 * cancel(); // the callback will not run
 */
export interface Timers {
  /** Milliseconds since an arbitrary epoch (the system clock uses the Unix epoch). */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds; returns a function that cancels it (idempotent). */
  setTimeout(fn: () => void, ms: number): () => void;
}

/** Wall-clock timers on Node's `Date.now` and `setTimeout`; timers do not keep the process alive. */
export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return () => clearTimeout(handle);
  },
};
