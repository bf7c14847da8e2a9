declare const timerBrand: unique symbol;

/** A scheduled callback, as {@link Timers} hands it out; only good for clearing it. */
export interface Timer {
  readonly [timerBrand]: 'Timer';
}

/**
 * The clock and timers of the parts of monkd that decide by time (the reconcile loop, its backoffs, the
 * readiness and liveness probes): real in the daemon ({@link systemTimers}), manual in unit tests
 * ({@link createManualTimers}), so that a test drives minutes of backoff without waiting for them.
 */
export interface Timers {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `callback` once, `ms` from now. */
  setTimeout(callback: () => void, ms: number): Timer;
  clearTimeout(timer: Timer): void;
  /** Calls `callback` every `ms` from now on. */
  setInterval(callback: () => void, ms: number): Timer;
  clearInterval(timer: Timer): void;
}

/** The process's own clock and timers. */
export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms) as unknown as Timer,
  clearTimeout: (timer) => globalThis.clearTimeout(timer as unknown as NodeJS.Timeout),
  setInterval: (callback, ms) => globalThis.setInterval(callback, ms) as unknown as Timer,
  clearInterval: (timer) => globalThis.clearInterval(timer as unknown as NodeJS.Timeout),
};

/** {@link Timers} whose time only moves when told. */
export interface ManualTimers extends Timers {
  /**
   * Moves the clock `ms` forward, firing every timer that falls due on the way, in order, each at its own
   * time, and letting the work it starts (promises, I/O callbacks) settle before the next one fires.
   */
  advance(ms: number): Promise<void>;
  /** Lets pending work settle without moving the clock. */
  settle(): Promise<void>;
  /** How many timers are scheduled. */
  pending(): number;
}

/**
 * Timers for tests: the clock starts at `start` (ms epoch) and moves only through
 * {@link ManualTimers.advance}.
 *
 * @example
 * const timers = createManualTimers({ start: Date.parse('2025-01-01T00:00:00Z') });
 * timers.setTimeout(() => console.log('later'), 60_000);
 * await timers.advance(60_000); // logs 'later' at once
 */
export function createManualTimers(options: { start: number }): ManualTimers {
  interface Scheduled {
    id: number;
    at: number;
    every?: number;
    callback: () => void;
  }
  let now = options.start;
  let nextId = 1;
  const scheduled = new Map<number, Scheduled>();

  const add = (entry: Omit<Scheduled, 'id'>): Timer => {
    const id = nextId++;
    scheduled.set(id, { ...entry, id });
    return { id } as unknown as Timer;
  };
  const cancel = (timer: Timer): void => {
    scheduled.delete((timer as unknown as { id: number }).id);
  };
  const settle = async (): Promise<void> => {
    // Promise chains of a few hops (a probe, a pass over the memory runtime) finish within these turns.
    for (let i = 0; i < 50; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  const earliest = (until: number): Scheduled | undefined => {
    let first: Scheduled | undefined;
    for (const entry of scheduled.values()) {
      if (entry.at > until) continue;
      if (first === undefined || entry.at < first.at || (entry.at === first.at && entry.id < first.id)) {
        first = entry;
      }
    }
    return first;
  };

  return {
    now: () => now,
    setTimeout: (callback, ms) => add({ at: now + Math.max(0, ms), callback }),
    clearTimeout: cancel,
    setInterval: (callback, ms) => add({ at: now + Math.max(1, ms), every: Math.max(1, ms), callback }),
    clearInterval: cancel,
    async advance(ms) {
      const target = now + Math.max(0, ms);
      await settle();
      for (;;) {
        const due = earliest(target);
        if (due === undefined) break;
        now = Math.max(now, due.at);
        if (due.every === undefined) scheduled.delete(due.id);
        else due.at += due.every;
        due.callback();
        await settle();
      }
      now = target;
      await settle();
    },
    settle,
    pending: () => scheduled.size,
  };
}
