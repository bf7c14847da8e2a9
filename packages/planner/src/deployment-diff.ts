import { canonicalJson } from '@monk/model';
import type { ContainerSpec, Mount, PortMapping, ReadinessCheck, Workload } from '@monk/model';
import { compareStrings } from './dependency-order.ts';

/**
 * What a deploy does to one workload. `reasons` say field by field what changes, never a value that may be
 * secret: environment variables, file contents, commands and label values are named, not shown.
 */
export interface DeploymentChange {
  kind: 'create' | 'update' | 'remove' | 'unchanged';
  workloadId: string;
  reasons: string[];
}

/**
 * Compares the workloads deployed now with the ones a deploy would write, by workload id, sorted by id.
 * Workloads only in `next` are created (reasons: image and owner), only in `current` removed, in both
 * updated when any field differs (image, entrypoint, command, environment keys, ports, mounts, files,
 * working dir, user, labels, resources, privileges, readiness, recovery, dependencies, name, aliases,
 * owner, state) and unchanged otherwise. `generation` alone is not a change. Never throws.
 *
 * @example
 * diffWorkloads([web], [{ ...web, spec: { ...web.spec, image: 'nginx:2' } }])
 * // [{ kind: 'update', workloadId: 'ns/app#web', reasons: ['image: nginx:1 → nginx:2'] }]
 */
export function diffWorkloads(current: readonly Workload[], next: readonly Workload[]): DeploymentChange[] {
  const before = new Map(current.map((workload) => [workload.id, workload]));
  const after = new Map(next.map((workload) => [workload.id, workload]));
  const ids = [...new Set([...before.keys(), ...after.keys()])].sort(compareStrings);
  return ids.map((workloadId): DeploymentChange => {
    const old = before.get(workloadId);
    const fresh = after.get(workloadId);
    if (old === undefined && fresh !== undefined) {
      const reasons = [`image: ${fresh.spec.image}`, `owner: ${ownerText(fresh.owner)}`];
      if (fresh.state === 'stopped') reasons.push('state: stopped');
      return { kind: 'create', workloadId, reasons };
    }
    if (fresh === undefined) {
      return {
        kind: 'remove',
        workloadId,
        reasons: old === undefined || old.owner === '' ? [] : [`was on ${old.owner}`],
      };
    }
    if (old === undefined) return { kind: 'unchanged', workloadId, reasons: [] };
    const reasons = compareWorkloads(old, fresh);
    return { kind: reasons.length === 0 ? 'unchanged' : 'update', workloadId, reasons };
  });
}

function compareWorkloads(old: Workload, next: Workload): string[] {
  const reasons = compareSpecs(old.spec, next.spec);
  if (reasons.length === 0 && old.specHash !== next.specHash) reasons.push('spec changed');
  reasons.push(...compareChecks(old.readiness, next.readiness));
  for (const key of ['restart', 'initialBackoffMs', 'maxBackoffMs'] as const) {
    scalar(reasons, { field: `recovery.${key}`, before: old.recovery[key], after: next.recovery[key] });
  }
  reasons.push(...compareSets('dependsOn', old.dependsOn, next.dependsOn));
  scalar(reasons, { field: 'name', before: old.name, after: next.name });
  reasons.push(...compareSets('aliases', old.aliases, next.aliases));
  scalar(reasons, { field: 'owner', before: ownerText(old.owner), after: ownerText(next.owner) });
  scalar(reasons, { field: 'state', before: old.state, after: next.state });
  return reasons;
}

function compareSpecs(old: ContainerSpec, next: ContainerSpec): string[] {
  const reasons: string[] = [];
  scalar(reasons, { field: 'image', before: old.image, after: next.image });
  if (canonicalJson(old.entrypoint) !== canonicalJson(next.entrypoint)) reasons.push('entrypoint changed');
  if (canonicalJson(old.command) !== canonicalJson(next.command)) reasons.push('command changed');
  reasons.push(...compareKeyed({ field: 'environment', before: old.environment, after: next.environment }));
  reasons.push(...compareSets('ports', old.ports.map(formatPort), next.ports.map(formatPort)));
  reasons.push(...compareMounts(old.mounts, next.mounts));
  const files = (spec: ContainerSpec): Record<string, string> =>
    Object.fromEntries(spec.files.map((file) => [file.path, canonicalJson(file)]));
  for (const change of compareKeyed({
    field: 'file',
    before: files(old),
    after: files(next),
    separator: ' ',
  })) {
    reasons.push(change);
  }
  scalar(reasons, { field: 'workingDir', before: old.workingDir, after: next.workingDir });
  scalar(reasons, { field: 'user', before: old.user, after: next.user });
  reasons.push(...compareKeyed({ field: 'labels', before: old.labels, after: next.labels }));
  scalar(reasons, { field: 'resources.cpus', before: old.resources?.cpus, after: next.resources?.cpus });
  scalar(reasons, {
    field: 'resources.memory',
    before: formatBytes(old.resources?.memoryBytes),
    after: formatBytes(next.resources?.memoryBytes),
  });
  scalar(reasons, { field: 'privileged', before: old.privileged ?? false, after: next.privileged ?? false });
  reasons.push(...compareSets('capAdd', old.capAdd ?? [], next.capAdd ?? []));
  return reasons;
}

/** Pushes `field: before → after` when a plain, non-secret value differs. */
function scalar(
  reasons: string[],
  change: {
    field: string;
    before: string | number | boolean | undefined;
    after: string | number | boolean | undefined;
  },
): void {
  if (change.before === change.after) return;
  reasons.push(`${change.field}: ${show(change.before)} → ${show(change.after)}`);
}

/** Changes of a map by key, never printing values: `environment.FOO added|changed|removed`. */
function compareKeyed(options: {
  field: string;
  before: Readonly<Record<string, string>>;
  after: Readonly<Record<string, string>>;
  separator?: string;
}): string[] {
  const { before, after } = options;
  const separator = options.separator ?? '.';
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort(compareStrings);
  return keys.flatMap((key) => {
    const had = Object.hasOwn(before, key);
    const has = Object.hasOwn(after, key);
    const label = `${options.field}${separator}${key}`;
    if (!had) return [`${label} added`];
    if (!has) return [`${label} removed`];
    return before[key] === after[key] ? [] : [`${label} changed`];
  });
}

/** Changes of an unordered list of plain values: `ports: +8080:80/tcp`, `dependsOn: -ns/db#db`. */
function compareSets(field: string, before: readonly string[], after: readonly string[]): string[] {
  const old = new Set(before);
  const next = new Set(after);
  const added = [...next].filter((item) => !old.has(item)).sort(compareStrings);
  const removed = [...old].filter((item) => !next.has(item)).sort(compareStrings);
  return [...added.map((item) => `${field}: +${item}`), ...removed.map((item) => `${field}: -${item}`)];
}

function compareMounts(before: readonly Mount[], after: readonly Mount[]): string[] {
  const old = new Map(before.map((mount) => [mount.target, mount]));
  const next = new Map(after.map((mount) => [mount.target, mount]));
  const targets = [...new Set([...old.keys(), ...next.keys()])].sort(compareStrings);
  return targets.flatMap((target) => {
    const a = old.get(target);
    const b = next.get(target);
    if (a === undefined && b !== undefined) return [`mount ${target} added (${formatMount(b)})`];
    if (b === undefined) return [`mount ${target} removed`];
    if (a === undefined || formatMount(a) === formatMount(b)) return [];
    return [`mount ${target}: ${formatMount(a)} → ${formatMount(b)}`];
  });
}

function compareChecks(before: ReadinessCheck | undefined, after: ReadinessCheck | undefined): string[] {
  if (canonicalJson(before) === canonicalJson(after)) return [];
  if (before === undefined) return [`readiness added (${formatCheck(after)})`];
  if (after === undefined) return ['readiness removed'];
  const a = formatCheck(before);
  const b = formatCheck(after);
  return a === b ? [`readiness changed (${a})`] : [`readiness: ${a} → ${b}`];
}

function formatPort(port: PortMapping): string {
  const host =
    port.hostPort === undefined
      ? ''
      : `${port.hostIp === undefined ? '' : `${port.hostIp}:`}${port.hostPort}:`;
  return `${host}${port.containerPort}/${port.protocol}`;
}

function formatMount(mount: Mount): string {
  const source = mount.kind === 'tmpfs' ? 'tmpfs' : `${mount.kind} ${mount.source}`;
  return mount.readOnly ? `${source}, read-only` : source;
}

function formatCheck(check: ReadinessCheck | undefined): string {
  if (check === undefined) return 'none';
  switch (check.kind) {
    case 'http':
      return `http :${check.port}${check.path}`;
    case 'tcp':
      return `tcp :${check.port}`;
    case 'exec':
    case 'arrow':
      return check.kind;
  }
}

function formatBytes(bytes: number | undefined): string | undefined {
  if (bytes === undefined) return undefined;
  for (const [unit, size] of [
    ['Gi', 1024 ** 3],
    ['Mi', 1024 ** 2],
    ['Ki', 1024],
  ] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}

function show(value: string | number | boolean | undefined): string {
  return value === undefined ? '(none)' : String(value);
}

/** An owner for people: `''` is an instance no peer can take now. */
function ownerText(owner: string): string {
  return owner === '' ? '(unschedulable)' : owner;
}
