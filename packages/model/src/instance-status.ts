import type { PeerState } from './peer.ts';
import type { ObservedWorkload, WorkloadPhase } from './workload.ts';

/** What `monk ps` can say of an instance: the phase its owner last reported, or `unknown`. */
export type InstanceState = WorkloadPhase | 'unknown';

/** Why an instance's state is `unknown`. */
export type UnknownReason = 'runtime unavailable' | 'peer dead' | 'peer left';

/** The state of one instance as `monk ps` shows it, in the table and in `--json` alike. */
export interface InstanceStatus {
  readonly state: InstanceState;
  /** True only when the state is known and the owner reported the instance ready. */
  readonly ready: boolean;
  /** Set when `state` is `unknown`. */
  readonly reason?: UnknownReason;
}

/** What {@link instanceStatus} decides from. */
export interface InstanceView {
  /** The owner's last report of the instance; absent before its first. */
  readonly observed: Pick<ObservedWorkload, 'phase' | 'ready' | 'errorCode'> | undefined;
  /**
   * The owning peer as this peer's membership sees it. Leave it out when this peer owns the instance or
   * is in no cluster.
   */
  readonly ownerState?: PeerState | 'unknown';
  /** False when this peer owns the instance and its container runtime does not answer now. */
  readonly runtimeAvailable?: boolean;
}

/**
 * Decides what to claim about an instance. A report is only as good as its reporter: when the owning peer
 * is dead (or left), or its container runtime does not answer, the last report may be long out of date,
 * so the state is `unknown` with the reason, and the instance is not ready.
 *
 * @example
 * instanceStatus({ observed: { phase: 'ready', ready: true }, ownerState: 'dead' });
 * // → { state: 'unknown', ready: false, reason: 'peer dead' }
 */
export function instanceStatus(view: InstanceView): InstanceStatus {
  if (view.ownerState === 'dead') return { state: 'unknown', ready: false, reason: 'peer dead' };
  if (view.ownerState === 'left') return { state: 'unknown', ready: false, reason: 'peer left' };
  if (view.runtimeAvailable === false || view.observed?.errorCode === 'RUNTIME_UNAVAILABLE') {
    return { state: 'unknown', ready: false, reason: 'runtime unavailable' };
  }
  if (view.observed === undefined) return { state: 'pending', ready: false };
  return { state: view.observed.phase, ready: view.observed.ready };
}
