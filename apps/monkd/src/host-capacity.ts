import { readdir } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import type { PeerCapacity } from '@monk/model';

/** Where the host's numbers come from; the real host by default, a fake in tests. */
export interface HostCapacitySource {
  cpuCount(): number;
  totalMemoryBytes(): number;
  /** The entries of `/proc/driver/nvidia/gpus` (one per NVIDIA GPU); rejects when the driver is absent. */
  nvidiaGpus(): Promise<readonly string[]>;
}

const realHost: HostCapacitySource = {
  cpuCount: () => cpus().length,
  totalMemoryBytes: () => totalmem(),
  nvidiaGpus: () => readdir('/proc/driver/nvidia/gpus'),
};

/**
 * What this host offers to workloads, for its peer record: its CPUs, its memory and its NVIDIA GPUs
 * (absent when there are none or no driver). Never throws.
 *
 * @example
 * const capacity = await readHostCapacity(); // { cpus: 8, memoryBytes: 16_663_420_928 }
 */
export async function readHostCapacity(source: HostCapacitySource = realHost): Promise<PeerCapacity> {
  const gpus = await source.nvidiaGpus().then(
    (entries) => entries.length,
    () => 0,
  );
  return {
    cpus: source.cpuCount(),
    memoryBytes: source.totalMemoryBytes(),
    ...(gpus === 0 ? {} : { gpus }),
  };
}
