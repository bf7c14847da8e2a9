import type { InstanceStats } from '@monk/sdk';
import { renderTable, shortPeerId } from '../render.ts';

/** `1.5MiB`, `7.63GiB`: binary units, as `docker stats` shows memory. */
export function formatBinaryBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value}B` : `${value.toFixed(value < 10 ? 2 : 1)}${units[unit] ?? ''}`;
}

/** `1.3kB`, `52MB`: decimal units, as `docker stats` shows network I/O. */
export function formatDecimalBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${value}B` : `${value.toFixed(value < 10 ? 2 : 1)}${units[unit] ?? ''}`;
}

/** The table of `monk stats`: one row per running instance, like `docker stats`. */
export function renderStats(instances: readonly InstanceStats[]): string {
  if (instances.length === 0) return 'No running instances.';
  return renderTable(
    ['INSTANCE', 'PEER', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET RX / TX'],
    instances.map((row) => [
      row.workloadId,
      shortPeerId(row.peer),
      `${row.cpuPercent.toFixed(2)}%`,
      `${formatBinaryBytes(row.memoryBytes)} / ${formatBinaryBytes(row.memoryLimitBytes)}`,
      row.memoryLimitBytes > 0 ? `${((row.memoryBytes / row.memoryLimitBytes) * 100).toFixed(2)}%` : '-',
      `${formatDecimalBytes(row.networkRxBytes)} / ${formatDecimalBytes(row.networkTxBytes)}`,
    ]),
  );
}
