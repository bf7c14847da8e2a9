import type { PsEntry } from '@monk/sdk';

/** Renders rows as an aligned text table with a header, like `docker ps`. */
export function renderTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** A peer id shortened for tables: `12D3Ko…x7Yz9q`. Commands that take an id accept this form too. */
export function shortPeerId(id: string): string {
  return id.length <= 16 ? id : `${id.slice(0, 6)}…${id.slice(-6)}`;
}

/**
 * The status column of `monk ps`, from the same fields `--json` carries: `unknown: REASON` when monk cannot
 * see the instance, else its state, readiness and the reason when something is wrong.
 */
export function statusOf(entry: PsEntry): string {
  if (entry.unschedulable !== undefined) return `unschedulable: ${entry.unschedulable}`;
  if (entry.state === 'unknown') return `unknown: ${entry.reason ?? 'no report'}`;
  const restarts = entry.restarts > 0 ? ` (${entry.restarts} restarts)` : '';
  const ready = entry.state === 'ready' && entry.ready;
  const base = ready ? 'running, ready' : entry.state;
  const message = entry.message !== undefined && !ready ? `: ${entry.message}` : '';
  return `${base}${restarts}${message}`;
}

export function renderPs(entries: readonly PsEntry[]): string {
  if (entries.length === 0) return 'No runnables are running. Start one with monk run NAMESPACE/NAME.';
  return renderTable(
    ['RUNNABLE', 'CONTAINER', 'PEER', 'IMAGE', 'PORTS', 'STATUS'],
    entries.map((e) => [
      e.runnable,
      e.name,
      e.peer === '' ? '-' : shortPeerId(e.peer),
      e.image,
      e.ports.join(','),
      statusOf(e),
    ]),
  );
}
