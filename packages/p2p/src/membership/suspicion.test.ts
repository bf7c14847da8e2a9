import { describe, expect, it } from 'vitest';
import { createSuspicion } from './suspicion.ts';
import { createVirtualClock } from './test-sim.ts';

function firesAt(confirmAt: readonly (readonly [number, string])[], confirmations = 3): Promise<number> {
  const clock = createVirtualClock();
  let firedAt = -1;
  const suspicion = createSuspicion({
    timers: clock,
    from: 'origin',
    confirmations,
    minMs: 1_000,
    maxMs: 4_000,
    onTimeout: () => {
      firedAt = clock.now();
    },
  });
  const run = async (): Promise<number> => {
    for (const [at, from] of confirmAt) {
      await clock.advance(at - clock.now());
      suspicion.confirm(from);
    }
    await clock.advance(10_000);
    return firedAt;
  };
  return run();
}

describe('suspicion timer (Lifeguard)', () => {
  it('fires at the maximum without confirmations', async () => {
    expect(await firesAt([])).toBe(4_000);
  });

  it('shrinks towards the minimum as independent members confirm', async () => {
    // timeout(c) = max − (max − min) · log(c + 1) / log(k + 1) with k = 3: 4000, 2500, 1623, 1000
    expect(await firesAt([[100, 'b']])).toBe(2_500);
    expect(
      await firesAt([
        [100, 'b'],
        [200, 'c'],
      ]),
    ).toBe(1_622);
    expect(
      await firesAt([
        [100, 'b'],
        [200, 'c'],
        [300, 'd'],
        [400, 'e'],
      ]),
    ).toBe(1_000);
  });

  it('ignores repeated and originating confirmers', async () => {
    expect(
      await firesAt([
        [100, 'origin'],
        [200, 'b'],
        [300, 'b'],
      ]),
    ).toBe(2_500);
  });

  it('fires at once when a confirmation lands past the new deadline', async () => {
    expect(
      await firesAt([
        [2_000, 'b'],
        [2_400, 'c'],
      ]),
    ).toBe(2_400);
  });

  it('uses the minimum when no confirmations are expected', async () => {
    expect(await firesAt([], 0)).toBe(1_000);
  });

  it('never fires once cancelled', async () => {
    const clock = createVirtualClock();
    let fired = false;
    const suspicion = createSuspicion({
      timers: clock,
      from: 'a',
      confirmations: 1,
      minMs: 10,
      maxMs: 20,
      onTimeout: () => {
        fired = true;
      },
    });
    suspicion.cancel();
    await clock.advance(100);
    expect(fired).toBe(false);
    expect(suspicion.confirm('b')).toBe(false);
  });
});
