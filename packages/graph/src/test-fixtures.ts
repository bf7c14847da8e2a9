import type { Deployment, ObservedWorkload, PeerRecord, Workload } from '@monk/model';

/** A valid workload for tests; override any field. */
export function makeWorkload(overrides: Partial<Workload> & { id: string }): Workload {
  return {
    deployment: 'ns/app',
    runnable: 'ns/app',
    container: 'main',
    name: overrides.id.replace(/[^a-z0-9-]/g, '-'),
    aliases: [],
    spec: { image: 'busybox', environment: {}, ports: [], mounts: [], files: [], labels: {} },
    specHash: '0000000000000000',
    dependsOn: [],
    recovery: { restart: 'always', initialBackoffMs: 1000, maxBackoffMs: 60000 },
    owner: 'peer-a',
    state: 'running',
    generation: 1,
    ...overrides,
  };
}

/** A valid observed status for tests. */
export function makeObserved(
  overrides: Partial<ObservedWorkload> & { workloadId: string; peer: string },
): ObservedWorkload {
  return {
    phase: 'running',
    ready: true,
    restarts: 0,
    updatedAt: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export function makeDeployment(overrides: Partial<Deployment> & { path: string }): Deployment {
  return {
    variables: {},
    state: 'running',
    generation: 1,
    updatedAt: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export function makePeer(overrides: Partial<PeerRecord> & { id: string }): PeerRecord {
  return {
    name: overrides.id,
    role: 'peer',
    tags: [],
    addresses: [],
    joinedAt: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** A deterministic clock that advances one millisecond per call. */
export function steppingClock(start = Date.UTC(2025, 0, 1)): () => Date {
  let now = start;
  return () => new Date(now++);
}
