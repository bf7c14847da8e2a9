import { defaultRecoveryPolicy, type RecoveryPolicy } from '@monk/model';
import { describe, expect, it } from 'vitest';
import {
  createRetryDelay,
  hasRecovered,
  instancePhase,
  isDeployFailure,
  peerFailureRecovery,
  restartsOnExit,
  restartsOnLivenessFailure,
  type InstanceFacts,
  type InstanceStatus,
} from './instance-phase.ts';

const now = Date.parse('2025-01-01T00:00:00Z');
const base: InstanceFacts = {
  desired: 'running',
  recovery: defaultRecoveryPolicy,
  readinessChecked: false,
  consecutiveRestarts: 0,
  now,
};
const policy = (overrides: Partial<RecoveryPolicy>): RecoveryPolicy => ({
  ...defaultRecoveryPolicy,
  ...overrides,
});

const phases: Array<{ name: string; facts: Partial<InstanceFacts>; status: InstanceStatus }> = [
  { name: 'no container yet: creating', facts: {}, status: { phase: 'creating', ready: false } },
  {
    name: 'no container, stopped',
    facts: { desired: 'stopped' },
    status: { phase: 'stopped', ready: false },
  },
  {
    name: 'creation failed: failed with the engine code',
    facts: { failure: { message: 'no such image nope:1', code: 'IMAGE_NOT_FOUND' } },
    status: { phase: 'failed', ready: false, message: 'no such image nope:1', errorCode: 'IMAGE_NOT_FOUND' },
  },
  {
    name: 'image on its way: pending with the exchange message',
    facts: { imageWait: 'fetching image a:1 from peer b' },
    status: { phase: 'pending', ready: false, message: 'fetching image a:1 from peer b' },
  },
  {
    name: 'waiting for dependencies: pending with why',
    facts: { waiting: { reason: 'waiting for ns/db#db to be ready' } },
    status: { phase: 'pending', ready: false, message: 'waiting for ns/db#db to be ready' },
  },
  {
    name: 'dependencies timed out: failed with TIMEOUT',
    facts: { waiting: { reason: 'waiting', failure: { code: 'TIMEOUT', message: 'not ready after 30s' } } },
    status: { phase: 'failed', ready: false, message: 'not ready after 30s', errorCode: 'TIMEOUT' },
  },
  {
    name: 'running, no readiness check: ready',
    facts: { container: { state: 'running' } },
    status: { phase: 'ready', ready: true },
  },
  {
    name: 'running, desired stopped: stopping',
    facts: { desired: 'stopped', container: { state: 'running' } },
    status: { phase: 'stopping', ready: false },
  },
  {
    name: 'running, readiness not passed yet: running with the probe message',
    facts: {
      container: { state: 'running' },
      readinessChecked: true,
      readiness: { ready: false, failed: false, message: 'readiness check failed (1/3): no' },
    },
    status: { phase: 'running', ready: false, message: 'readiness check failed (1/3): no' },
  },
  {
    name: 'running, readiness never passed in attempts: failed',
    facts: {
      container: { state: 'running' },
      readinessChecked: true,
      readiness: { ready: false, failed: true, message: 'readiness check failed (3/3): no' },
    },
    status: { phase: 'failed', ready: false, message: 'readiness check failed (3/3): no' },
  },
  {
    name: 'running, readiness passed: ready',
    facts: {
      container: { state: 'running' },
      readinessChecked: true,
      readiness: { ready: true, failed: false },
    },
    status: { phase: 'ready', ready: true },
  },
  {
    name: 'running after a liveness restart: ready, saying why it restarted',
    facts: { container: { state: 'running' }, livenessRestart: 'liveness check failed: exit code 1' },
    status: { phase: 'ready', ready: true, message: 'liveness check failed: exit code 1' },
  },
  {
    name: 'liveness failed and recovery is none: failed with CHECK_FAILED',
    facts: {
      recovery: policy({ when: 'none' }),
      container: { state: 'running' },
      liveness: { ready: false, failed: true, message: 'liveness check failed (3/3): exit code 1' },
    },
    status: {
      phase: 'failed',
      ready: false,
      message: 'liveness check failed (3/3): exit code 1',
      errorCode: 'CHECK_FAILED',
    },
  },
  {
    name: 'liveness failed and it will be restarted: still ready until the restart',
    facts: { container: { state: 'running' }, liveness: { ready: false, failed: true, message: 'x' } },
    status: { phase: 'ready', ready: true },
  },
  {
    name: 'created: starting',
    facts: { container: { state: 'created' } },
    status: { phase: 'starting', ready: false },
  },
  {
    name: 'created and its dependencies timed out: failed',
    facts: {
      container: { state: 'created' },
      waiting: { reason: 'w', failure: { code: 'TIMEOUT', message: 'not ready after 5s' } },
    },
    status: { phase: 'failed', ready: false, message: 'not ready after 5s', errorCode: 'TIMEOUT' },
  },
  {
    name: 'paused: running, saying so',
    facts: { container: { state: 'paused' } },
    status: { phase: 'running', ready: false, message: 'paused' },
  },
  {
    name: 'removing: stopping',
    facts: { container: { state: 'removing' } },
    status: { phase: 'stopping', ready: false },
  },
  {
    name: 'exited, restart always: backoff with the time left',
    facts: {
      container: { state: 'exited', exitCode: 3 },
      consecutiveRestarts: 2,
      waiting: { reason: 'r', until: now + 2_500 },
    },
    status: {
      phase: 'backoff',
      ready: false,
      exitCode: 3,
      message: 'exited with code 3; restarting in 3s (back-off 4s)',
    },
  },
  {
    name: 'exited, restart due now: backoff, restarting',
    facts: { container: { state: 'exited', exitCode: 3 } },
    status: { phase: 'backoff', ready: false, exitCode: 3, message: 'exited with code 3; restarting' },
  },
  {
    name: 'exited 0 under on-failure: exited',
    facts: { recovery: policy({ restart: 'on-failure' }), container: { state: 'exited', exitCode: 0 } },
    status: { phase: 'exited', ready: false, exitCode: 0, message: 'exited with code 0' },
  },
  {
    name: 'exited 1 under recovery when: container-failure: backoff',
    facts: { recovery: policy({ when: 'container-failure' }), container: { state: 'exited', exitCode: 1 } },
    status: { phase: 'backoff', ready: false, exitCode: 1, message: 'exited with code 1; restarting' },
  },
  {
    name: 'exited 1 under recovery when: node-failure: exited',
    facts: { recovery: policy({ when: 'node-failure' }), container: { state: 'exited', exitCode: 1 } },
    status: { phase: 'exited', ready: false, exitCode: 1, message: 'exited with code 1' },
  },
  {
    name: 'exited, desired stopped: stopped with the exit code',
    facts: { desired: 'stopped', container: { state: 'exited', exitCode: 137 } },
    status: { phase: 'stopped', ready: false, exitCode: 137 },
  },
];

describe('instancePhase', () => {
  it.each(phases)('$name', ({ facts, status }) => {
    expect(instancePhase({ ...base, ...facts })).toEqual(status);
  });
});

describe('restart rules', () => {
  it.each([
    { policy: policy({}), exit: { state: 'exited', exitCode: 0 }, restarts: true },
    { policy: policy({ restart: 'on-failure' }), exit: { state: 'exited', exitCode: 0 }, restarts: false },
    { policy: policy({ restart: 'on-failure' }), exit: { state: 'exited' }, restarts: true },
    { policy: policy({ restart: 'on-failure' }), exit: { state: 'dead', exitCode: 0 }, restarts: true },
    { policy: policy({ restart: 'no' }), exit: { state: 'exited', exitCode: 1 }, restarts: false },
    { policy: policy({ when: 'always' }), exit: { state: 'exited', exitCode: 1 }, restarts: true },
    { policy: policy({ when: 'none' }), exit: { state: 'exited', exitCode: 1 }, restarts: false },
    { policy: policy({ when: 'node-failure' }), exit: { state: 'exited', exitCode: 1 }, restarts: false },
  ] as const)('$policy.restart/$policy.when after $exit.state $exit.exitCode: $restarts', (row) => {
    expect(restartsOnExit(row.policy, row.exit)).toBe(row.restarts);
  });

  it.each([
    { policy: policy({}), restarts: true },
    { policy: policy({ restart: 'on-failure' }), restarts: true },
    { policy: policy({ restart: 'no' }), restarts: false },
    { policy: policy({ when: 'container-failure' }), restarts: true },
    { policy: policy({ when: 'node-failure' }), restarts: false },
    { policy: policy({ when: 'none' }), restarts: false },
  ] as const)('liveness failure under $policy.restart/$policy.when restarts: $restarts', (row) => {
    expect(restartsOnLivenessFailure(row.policy)).toBe(row.restarts);
  });

  it.each([
    [1, 1_000],
    [2, 2_000],
    [4, 8_000],
    [7, 60_000],
    [100, 60_000],
    [0, 1_000],
  ])('retries a failed create %i time(s) after %ims', (count, delay) => {
    expect(createRetryDelay(count)).toBe(delay);
  });

  it('resets the backoff only after a minute up', () => {
    expect(hasRecovered({ startedAt: now - 60_000, now })).toBe(false);
    expect(hasRecovered({ startedAt: now - 60_001, now })).toBe(true);
  });
});

describe('peerFailureRecovery', () => {
  it.each([
    { policy: policy({}), deadFor: 0, move: true },
    { policy: policy({ when: 'node-failure' }), deadFor: 0, move: true },
    { policy: policy({ when: 'container-failure' }), deadFor: 600_000, move: false },
    { policy: policy({ when: 'none' }), deadFor: 600_000, move: false },
    { policy: policy({ afterMs: 60_000 }), deadFor: 59_999, move: false },
    { policy: policy({ afterMs: 60_000 }), deadFor: 60_000, move: true },
  ] as const)('$policy.when after $policy.afterMs, dead for $deadFor ms: move $move', (row) => {
    expect(peerFailureRecovery(row.policy, { deadSince: now - row.deadFor, now }).move).toBe(row.move);
  });

  it('says when a delayed move happens', () => {
    expect(peerFailureRecovery(policy({ afterMs: 30_000 }), { deadSince: now, now: now + 10_000 })).toEqual({
      move: false,
      at: now + 30_000,
      reason: 'recovery.after: moves in 20s',
    });
  });
});

describe('isDeployFailure', () => {
  it.each([
    { observed: { phase: 'failed', restarts: 0 }, fails: true },
    { observed: { phase: 'exited', restarts: 0, exitCode: 1 }, fails: true },
    { observed: { phase: 'exited', restarts: 0, exitCode: 0 }, fails: false },
    { observed: { phase: 'backoff', restarts: 2 }, fails: false },
    { observed: { phase: 'backoff', restarts: 3 }, fails: true },
    { observed: { phase: 'running', restarts: 9 }, fails: false },
    { observed: { phase: 'pending', restarts: 0 }, fails: false },
  ] as const)('$observed.phase ($observed.restarts restarts, exit $observed.exitCode): $fails', (row) => {
    expect(isDeployFailure(row.observed)).toBe(row.fails);
  });
});
