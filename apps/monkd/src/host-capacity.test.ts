import { describe, expect, it } from 'vitest';
import { readHostCapacity } from './host-capacity.ts';

describe('readHostCapacity', () => {
  it('counts CPUs, memory and the NVIDIA GPUs the driver lists', async () => {
    const capacity = await readHostCapacity({
      cpuCount: () => 8,
      totalMemoryBytes: () => 16 * 1024 ** 3,
      nvidiaGpus: () => Promise.resolve(['0000:01:00.0', '0000:02:00.0']),
    });
    expect(capacity).toEqual({ cpus: 8, memoryBytes: 16 * 1024 ** 3, gpus: 2 });
  });

  it('leaves GPUs out on a host without the NVIDIA driver', async () => {
    const capacity = await readHostCapacity({
      cpuCount: () => 2,
      totalMemoryBytes: () => 1024,
      nvidiaGpus: () => Promise.reject(new Error('ENOENT')),
    });
    expect(capacity).toEqual({ cpus: 2, memoryBytes: 1024 });
  });

  it('reads this host', async () => {
    const capacity = await readHostCapacity();
    expect(capacity.cpus).toBeGreaterThan(0);
    expect(capacity.memoryBytes).toBeGreaterThan(0);
  });
});
