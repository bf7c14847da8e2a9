/** How a member retries a peer it declared dead (see {@link reconnectDelay}). */
export interface ReconnectBackoff {
  /** Delay before the first retry after a member is declared dead. */
  readonly initialMs: number;
  /** The delay doubles per failed retry up to this cap. */
  readonly maxMs: number;
  /** Each delay is spread uniformly by ± this fraction, so peers do not retry in lockstep. */
  readonly jitter: number;
  /** A member dead longer than this is retried only every `slowIntervalMs` (it is probably gone). */
  readonly fastForMs: number;
  readonly slowIntervalMs: number;
}

/**
 * The wait before retry number `attempt` (0-based) of a member dead for `deadForMs`: `initialMs`
 * doubling to `maxMs` while the member has been dead less than `fastForMs` (a partition, a restart),
 * then `slowIntervalMs`. `random` is uniform in [0, 1).
 *
 * @example
 * reconnectDelay({ attempt: 0, deadForMs: 0 }, backoff, () => 0.5); // 250 with initialMs 250
 */
export function reconnectDelay(
  state: { readonly attempt: number; readonly deadForMs: number },
  backoff: ReconnectBackoff,
  random: () => number,
): number {
  const base =
    state.deadForMs >= backoff.fastForMs
      ? backoff.slowIntervalMs
      : Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(state.attempt, 30));
  return Math.max(0, Math.round(base * (1 + backoff.jitter * (2 * random() - 1))));
}
