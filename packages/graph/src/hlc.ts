import { z } from 'zod';

/**
 * A hybrid logical clock stamp (Kulkarni et al. 2014): wall-clock milliseconds, a counter that orders
 * stamps within one millisecond (or while the wall clock lags behind a stamp already seen), and the peer
 * that issued it, which breaks the remaining ties. Stamps are totally ordered by {@link compareStamps}.
 */
export interface HlcStamp {
  readonly wallMs: number;
  readonly counter: number;
  readonly peer: string;
}

/** The wire and storage form of a stamp (validated when read from the graph). */
export const hlcStampSchema = z.object({
  wallMs: z.number().int().min(0),
  counter: z.number().int().min(0),
  peer: z.string(),
});

/**
 * Orders stamps by (wallMs, counter, peer); negative when `a` is earlier. `undefined` (a record written
 * before stamps existed) is earlier than every stamp.
 */
export function compareStamps(a: HlcStamp | undefined, b: HlcStamp | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  if (a.wallMs !== b.wallMs) return a.wallMs < b.wallMs ? -1 : 1;
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1;
  return a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0;
}

/** A compact, sortable text form (`wallMs.counter.peer`), e.g. for record keys. */
export function formatStamp(stamp: HlcStamp): string {
  return `${String(stamp.wallMs).padStart(15, '0')}.${String(stamp.counter).padStart(6, '0')}.${stamp.peer}`;
}

/**
 * One peer's hybrid logical clock. `now()` issues a stamp greater than every stamp it issued or
 * `receive`d before, and as close to the wall clock as that allows: a write that saw another write (and
 * received its stamp) always gets a greater stamp, whatever the two peers' wall clocks say.
 */
export interface HybridClock {
  /** A fresh stamp for a local event. */
  now(): HlcStamp;
  /** Merges a stamp seen on a remote (or stored) record, so later local stamps order after it. */
  receive(stamp: HlcStamp): void;
}

/**
 * Creates a hybrid logical clock for `peer`. `wallClock` gives milliseconds since the epoch; a clock
 * that goes backwards or returns garbage never makes stamps go backwards.
 *
 * @example
 * const clock = createHybridClock({ peer: 'peer-a', wallClock: () => Date.now() });
 * const stamp = clock.now(); // { wallMs: 1764680000000, counter: 0, peer: 'peer-a' }
 */
export function createHybridClock(options: {
  readonly peer: string;
  readonly wallClock: () => number;
}): HybridClock {
  let wallMs = 0;
  let counter = 0;
  const physical = (): number => {
    const value = Math.floor(options.wallClock());
    return Number.isFinite(value) && value > 0 ? value : 0;
  };
  return {
    now() {
      const current = physical();
      if (current > wallMs) {
        wallMs = current;
        counter = 0;
      } else {
        counter++;
      }
      return { wallMs, counter, peer: options.peer };
    },
    receive(stamp) {
      if (stamp.wallMs > wallMs) {
        wallMs = stamp.wallMs;
        counter = stamp.counter;
      } else if (stamp.wallMs === wallMs && stamp.counter > counter) {
        counter = stamp.counter;
      }
    },
  };
}
