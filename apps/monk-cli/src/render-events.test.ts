import { describe, expect, it } from 'vitest';
import type { ConflictEvent } from '@monk/sdk';
import { describeConflict, parseSince, renderEvents } from './render-events.ts';

const conflict: ConflictEvent = {
  type: 'conflict',
  path: 'demo/hello',
  at: '2026-12-02T13:00:00.000Z',
  lost: {
    peer: '12D3KooWAbcdefghijklmnop',
    peerName: 'host-a',
    at: '2026-12-02T13:00:00.000Z',
    state: 'running',
    generation: 2,
    variables: { greeting: 'majority' },
  },
  won: {
    peer: '12D3KooWZyxwvutsrqponmlk',
    at: '2026-12-02T13:00:04.000Z',
    state: 'running',
    generation: 2,
    variables: { greeting: 'minority' },
  },
};

describe('monk events and describe', () => {
  it('says which write lost, to which, and what each set', () => {
    expect(renderEvents([conflict])).toMatchInlineSnapshot(`
      "TIME                       EVENT      DEPLOYMENT   DETAIL
      2026-12-02T13:00:00.000Z   conflict   demo/hello   host-a's write (greeting=majority) lost to 12D3Ko…ponmlk's later write at 2026-12-02T13:00:04.000Z (greeting=minority)"
    `);
    expect(describeConflict(conflict)).toMatchInlineSnapshot(`
      [
        "2026-12-02T13:00:00.000Z  lost: greeting=majority (running, by host-a)",
        "                          kept: greeting=minority (running, by 12D3Ko…ponmlk at 2026-12-02T13:00:04.000Z)",
      ]
    `);
    expect(renderEvents([])).toBe('No events recorded.');
  });

  it.each([
    { text: '90s', expected: '2026-12-02T12:58:30.000Z' },
    { text: '10m', expected: '2026-12-02T12:50:00.000Z' },
    { text: '2h', expected: '2026-12-02T11:00:00.000Z' },
    { text: '1d', expected: '2026-12-01T13:00:00.000Z' },
    { text: '2026-12-02T12:00:00+01:00', expected: '2026-12-02T11:00:00.000Z' },
  ])('--since $text', ({ text, expected }) => {
    expect(parseSince(text, new Date('2026-12-02T13:00:00Z'))).toBe(expected);
  });

  it('refuses a --since it cannot read, saying what it takes', () => {
    expect(() => parseSince('yesterday-ish', new Date())).toThrow(/duration \(90s, 10m, 2h, 7d\)/);
  });
});
