// Helpers shared by the root benches (not a bench itself: the runner takes only *.bench.ts).

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `check` every `intervalMs` until it returns a value other than undefined or false (a check that
 * throws counts as not yet), and returns it; throws after `timeoutMs`. Benches poll finely: the figure is
 * only as sharp as the interval.
 */
export async function until<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(options.intervalMs ?? 10);
  }
}
