import { MonkError } from '@monk/model';
import type { ConflictEvent, ConflictWrite } from '@monk/sdk';
import { renderTable, shortPeerId } from './render.ts';

function writer(write: ConflictWrite): string {
  return write.peerName ?? shortPeerId(write.peer);
}

function variables(write: ConflictWrite): string {
  const entries = Object.entries(write.variables);
  return entries.length === 0 ? '(no variables)' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
}

/** One conflict in words: which write lost, to which, and what each set. */
export function describeConflict(event: ConflictEvent): string[] {
  return [
    `${event.lost.at}  lost: ${variables(event.lost)} (${event.lost.state}, by ${writer(event.lost)})`,
    `${' '.repeat(event.won.at.length)}  kept: ${variables(event.won)} (${event.won.state}, by ${writer(event.won)} at ${event.won.at})`,
  ];
}

/** The table of `monk events`. */
export function renderEvents(events: readonly ConflictEvent[]): string {
  if (events.length === 0) return 'No events recorded.';
  return renderTable(
    ['TIME', 'EVENT', 'DEPLOYMENT', 'DETAIL'],
    events.map((e) => [
      e.at,
      e.type,
      e.path,
      `${writer(e.lost)}'s write (${variables(e.lost)}) lost to ${writer(e.won)}'s later write at ${e.won.at} (${variables(e.won)})`,
    ]),
  );
}

const units = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * `--since` as an ISO 8601 time: a duration back from `now` (`90s`, `10m`, `2h`, `7d`) or a date/time.
 * Throws `INVALID_REQUEST` for anything else.
 */
export function parseSince(text: string, now: Date): string {
  const duration = /^(\d+)([smhd])$/.exec(text.trim());
  if (duration !== null) {
    const unit = duration[2] as keyof typeof units;
    return new Date(now.getTime() - Number(duration[1]) * units[unit]).toISOString();
  }
  const time = Date.parse(text);
  if (Number.isNaN(time)) {
    throw new MonkError(
      'INVALID_REQUEST',
      `--since ${text} is neither a duration (90s, 10m, 2h, 7d) nor a date (2026-12-02T13:00:00Z)`,
    );
  }
  return new Date(time).toISOString();
}
