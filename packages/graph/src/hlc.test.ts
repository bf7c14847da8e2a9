import { describe, expect, it } from 'vitest';
import { compareStamps, createHybridClock, formatStamp } from './hlc.ts';
import type { HlcStamp } from './hlc.ts';
import { createPrng } from './test-network.ts';

const stamp = (wallMs: number, counter: number, peer: string): HlcStamp => ({ wallMs, counter, peer });

describe('compareStamps', () => {
  it.each([
    { a: stamp(1, 0, 'b'), b: stamp(2, 0, 'a'), order: -1, why: 'wall time first' },
    { a: stamp(2, 1, 'a'), b: stamp(2, 0, 'z'), order: 1, why: 'then the counter' },
    { a: stamp(2, 1, 'a'), b: stamp(2, 1, 'b'), order: -1, why: 'then the peer id' },
    { a: stamp(2, 1, 'a'), b: stamp(2, 1, 'a'), order: 0, why: 'equal' },
    { a: undefined, b: stamp(0, 0, ''), order: -1, why: 'no stamp is earliest' },
    { a: undefined, b: undefined, order: 0, why: 'two unstamped' },
  ])('$why', ({ a, b, order }) => {
    expect(Math.sign(compareStamps(a, b))).toBe(order);
    expect(Math.sign(compareStamps(b, a))).toBe(0 - order || 0);
  });

  it('sorts like the text form', () => {
    const random = createPrng(7);
    const stamps = Array.from({ length: 200 }, () =>
      stamp(Math.floor(random() * 5), Math.floor(random() * 3), `p${Math.floor(random() * 3)}`),
    );
    const byCompare = [...stamps].sort(compareStamps).map(formatStamp);
    const byText = stamps.map(formatStamp).sort();
    expect(byCompare).toEqual(byText);
  });
});

describe('createHybridClock', () => {
  it('follows the wall clock and counts within one millisecond', () => {
    const times = [100, 100, 101, 101, 101];
    const clock = createHybridClock({ peer: 'a', wallClock: () => times.shift() ?? 0 });
    expect([clock.now(), clock.now(), clock.now(), clock.now(), clock.now()]).toEqual([
      stamp(100, 0, 'a'),
      stamp(100, 1, 'a'),
      stamp(101, 0, 'a'),
      stamp(101, 1, 'a'),
      stamp(101, 2, 'a'),
    ]);
  });

  it('never goes backwards when the wall clock does (or returns garbage)', () => {
    const times = [500, 400, Number.NaN, -1, 450, 501];
    const clock = createHybridClock({ peer: 'a', wallClock: () => times.shift() ?? 0 });
    const issued = Array.from({ length: 6 }, () => clock.now());
    for (let i = 1; i < issued.length; i++) expect(compareStamps(issued[i - 1], issued[i])).toBeLessThan(0);
  });

  it.each([
    { wall: 100, seen: stamp(200, 5, 'b'), next: stamp(200, 6, 'a'), why: 'a stamp from a fast clock' },
    { wall: 300, seen: stamp(200, 5, 'b'), next: stamp(300, 0, 'a'), why: 'a stamp from a slow clock' },
    { wall: 200, seen: stamp(200, 5, 'b'), next: stamp(200, 6, 'a'), why: 'a stamp of the same millisecond' },
  ])('orders the next local stamp after $why', ({ wall, seen, next }) => {
    const clock = createHybridClock({ peer: 'a', wallClock: () => wall });
    clock.receive(seen);
    const issued = clock.now();
    expect(issued).toEqual(next);
    expect(compareStamps(issued, seen)).toBeGreaterThan(0);
  });

  it('orders every stamp after all stamps issued or received before it (seeded)', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const random = createPrng(seed);
      const clocks = ['a', 'b', 'c'].map((peer) => {
        let skew = Math.floor(random() * 10_000) - 5_000;
        return createHybridClock({
          peer,
          wallClock: () => 1_000_000 + (skew += Math.floor(random() * 3) - 1),
        });
      });
      const seen: HlcStamp[][] = clocks.map(() => []);
      for (let step = 0; step < 300; step++) {
        const index = Math.floor(random() * clocks.length);
        const clock = clocks[index]!;
        if (random() < 0.5) {
          const from = seen[Math.floor(random() * seen.length)]!.at(-1);
          if (from !== undefined) {
            clock.receive(from);
            seen[index]!.push(from);
          }
        } else {
          const issued = clock.now();
          for (const earlier of seen[index]!)
            expect(compareStamps(earlier, issued), `seed ${seed}`).toBeLessThan(0);
          seen[index]!.push(issued);
        }
      }
    }
  });
});
