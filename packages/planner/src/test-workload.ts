import { defaultRecoveryPolicy, specHash } from '@monk/model';
import type { ContainerSpec, Workload } from '@monk/model';

/** A valid workload for tests: `ns/app#<key>` on `peer-a`, running busybox; override anything. */
export function makeWorkload(key: string, overrides: Partial<Workload> = {}): Workload {
  const spec: ContainerSpec = overrides.spec ?? {
    image: 'monk-local/busybox:latest',
    environment: {},
    ports: [],
    mounts: [],
    files: [],
    labels: {},
  };
  return {
    id: `ns/app#${key}`,
    deployment: 'ns/app',
    runnable: 'ns/app',
    container: key,
    name: `ns-app-${key}`,
    aliases: [],
    dependsOn: [],
    recovery: defaultRecoveryPolicy,
    owner: 'peer-a',
    state: 'running',
    generation: 1,
    ...overrides,
    spec,
    specHash: overrides.specHash ?? specHash(spec),
  };
}
