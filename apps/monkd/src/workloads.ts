import type { Workload } from '@monk/model';

/**
 * Which workloads a user path names: a deployment path, a runnable path (`ns/name`), a container of one
 * (`ns/name/container`), or a workload id.
 */
export function selectWorkloads(workloads: readonly Workload[], path: string): Workload[] {
  const normalized = path.startsWith('/') ? path.slice(1) : path;
  return workloads.filter(
    (w) =>
      w.deployment === normalized ||
      w.runnable === normalized ||
      w.id === normalized ||
      `${w.runnable}/${w.container}` === normalized,
  );
}
