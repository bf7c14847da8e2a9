import { describe, expect, it } from 'vitest';
import { createManualTimers } from './timers.ts';

describe('manual timers', () => {
  it('fire in time order, each at its own time, intervals again and again, and cleared ones never', async () => {
    const timers = createManualTimers({ start: 1_000 });
    const fired: string[] = [];
    timers.setTimeout(() => fired.push(`b@${timers.now()}`), 300);
    timers.setTimeout(() => fired.push(`a@${timers.now()}`), 100);
    const cleared = timers.setTimeout(() => fired.push('never'), 200);
    const every = timers.setInterval(() => fired.push(`i@${timers.now()}`), 250);
    timers.clearTimeout(cleared);
    await timers.advance(600);
    expect(fired).toEqual(['a@1100', 'i@1250', 'b@1300', 'i@1500']);
    expect(timers.now()).toBe(1_600);
    timers.clearInterval(every);
    await timers.advance(10_000);
    expect(fired).toHaveLength(4);
    expect(timers.pending()).toBe(0);
  });

  it('fires a timer that a firing timer schedules within the same advance', async () => {
    const timers = createManualTimers({ start: 0 });
    const fired: number[] = [];
    timers.setTimeout(() => {
      fired.push(timers.now());
      timers.setTimeout(() => fired.push(timers.now()), 50);
    }, 50);
    await timers.advance(100);
    expect(fired).toEqual([50, 100]);
  });
});
