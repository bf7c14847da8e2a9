import { MonkError } from '@monk/model';

/**
 * Tuning of the failure detector and of gossip. Every duration is in milliseconds of the injected clock.
 * {@link defaultMembershipConfig} is tuned for a LAN (see the README for the reasoning and the measured
 * figures); a WAN wants every interval and timeout several times longer.
 */
export interface MembershipConfig {
  /** Each member probes one other member per interval (randomised round robin). */
  readonly probeIntervalMs: number;
  /** How long a direct ping waits for its ack before indirect probes start. Less than half the interval. */
  readonly probeTimeoutMs: number;
  /** How many other members are asked to probe a target that missed its direct ping (SWIM's k). */
  readonly indirectChecks: number;
  /** Minimum suspicion timeout = suspicionMult × max(1, log10 n) × probeIntervalMs. */
  readonly suspicionMult: number;
  /** Maximum suspicion timeout = suspicionMaxTimeoutMult × the minimum (Lifeguard). */
  readonly suspicionMaxTimeoutMult: number;
  /** Independent suspicions that shrink a suspicion timeout from its maximum to its minimum (Lifeguard). */
  readonly suspicionConfirmations: number;
  /** Each member sends an update ceil(retransmitMult × log2(n + 1)) times before dropping it (SWIM's λ log n). */
  readonly retransmitMult: number;
  /** How often pending updates are pushed to `gossipNodes` random members (only when some are pending). */
  readonly gossipIntervalMs: number;
  /** Fan-out of each gossip round. */
  readonly gossipNodes: number;
  /** Dead members keep receiving gossip this long, so a member wrongly declared dead learns it and refutes. */
  readonly gossipToTheDeadMs: number;
  /** At most this many updates ride on one message. */
  readonly maxPiggybackUpdates: number;
  /** Full-state push-pull with one random live member this often (anti-entropy). */
  readonly pushPullIntervalMs: number;
  /**
   * A member declared dead is retried with a push-pull (which dials it afresh) after `reconnectInitialMs`,
   * the wait doubling per failure up to `reconnectMaxMs` (each ± 20 % jitter), so a healed partition or a
   * restarted peer merges within about `reconnectMaxMs` of being reachable again.
   */
  readonly reconnectInitialMs: number;
  readonly reconnectMaxMs: number;
  /** A member dead longer than this (probably gone for good) is retried only every `reconnectIntervalMs`. */
  readonly reconnectFastForMs: number;
  /** Retry interval of members dead longer than `reconnectFastForMs`. */
  readonly reconnectIntervalMs: number;
  /** Timeout of a push-pull (join, anti-entropy, reconnect) and of a leave announcement. */
  readonly requestTimeoutMs: number;
  /** Lifeguard local health: probe interval and timeout stretch up to this factor while our probes fail. */
  readonly awarenessMaxMultiplier: number;
}

/**
 * LAN defaults, tuned in virtual time (bench/membership.bench.ts) to declare a killed peer dead at every other
 * member within 5 s (p99) for 5–20 members, and to declare nobody dead under 10 % random message loss.
 *
 * Detection time ≈ wait until some member probes the dead peer (with n − 1 probers that is about one probe
 * per interval, so p99 ≈ 4.6 intervals) + one probe round (an interval: direct ping, then k indirect pings
 * and a second direct ping) + the suspicion timeout (2 × max(1, log10 n) × interval, up to 3× that until
 * Lifeguard confirmations from other failing probers shrink it) + dissemination of `dead` (a few gossip
 * rounds). A 400 ms interval and suspicionMult 2 put p99 near 3.2 s for 20 members.
 *
 * False positives: a probe fails only if the direct ping, a second direct ping and all k indirect paths fail
 * (≈ 0.15 % per probe at 10 % loss). The suspected member then hears of it from every suspecter each gossip
 * round and its refutation goes back in the responses; the shortest suspicion timeout (0.8 s) is five
 * gossip rounds, which left no false `dead` in the benchmark even at 20–30 % loss.
 */
export const defaultMembershipConfig: MembershipConfig = {
  probeIntervalMs: 400,
  probeTimeoutMs: 150,
  indirectChecks: 3,
  suspicionMult: 2,
  suspicionMaxTimeoutMult: 3,
  suspicionConfirmations: 3,
  retransmitMult: 3,
  gossipIntervalMs: 150,
  gossipNodes: 3,
  gossipToTheDeadMs: 10_000,
  maxPiggybackUpdates: 16,
  pushPullIntervalMs: 15_000,
  reconnectInitialMs: 250,
  reconnectMaxMs: 1_000,
  reconnectFastForMs: 10 * 60_000,
  reconnectIntervalMs: 10_000,
  requestTimeoutMs: 2_000,
  awarenessMaxMultiplier: 4,
};

/** Merges `overrides` over the defaults and checks the result; throws MonkError `INVALID_REQUEST`. */
export function resolveMembershipConfig(overrides: Partial<MembershipConfig> = {}): MembershipConfig {
  const config: MembershipConfig = { ...defaultMembershipConfig, ...overrides };
  for (const [key, value] of Object.entries(config)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new MonkError('INVALID_REQUEST', `membership config ${key} must be a finite number ≥ 0`, {
        details: { key, value },
      });
    }
  }
  if (config.probeIntervalMs <= 0 || config.gossipIntervalMs <= 0) {
    throw new MonkError('INVALID_REQUEST', 'membership config intervals must be > 0');
  }
  if (config.probeTimeoutMs <= 0 || config.probeTimeoutMs * 2 > config.probeIntervalMs) {
    throw new MonkError(
      'INVALID_REQUEST',
      'membership config probeTimeoutMs must be > 0 and ≤ half of probeIntervalMs',
      {
        details: { probeTimeoutMs: config.probeTimeoutMs, probeIntervalMs: config.probeIntervalMs },
      },
    );
  }
  if (config.reconnectInitialMs <= 0 || config.reconnectMaxMs < config.reconnectInitialMs) {
    throw new MonkError(
      'INVALID_REQUEST',
      'membership config reconnectInitialMs must be > 0 and ≤ reconnectMaxMs',
    );
  }
  if (config.suspicionMaxTimeoutMult < 1 || config.awarenessMaxMultiplier < 1) {
    throw new MonkError('INVALID_REQUEST', 'membership config multipliers must be ≥ 1');
  }
  return config;
}
