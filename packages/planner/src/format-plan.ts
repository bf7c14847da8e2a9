import type { DeploymentChange } from './deployment-diff.ts';

const symbols = { create: '+', update: '~', remove: '-', unchanged: ' ' } as const;

/**
 * Renders deployment changes as a plan summary in the manner of Terraform: one `+` (create), `~` (update) or
 * `-` (remove) line per changed workload with its reasons indented below, unchanged workloads left out, and
 * a closing line `Plan: 2 to create, 1 to update, 0 to remove.` (with the unchanged count when there are
 * any). Never throws.
 *
 * @example
 * console.log(formatPlan(diffWorkloads(current, next)));
 */
export function formatPlan(changes: readonly DeploymentChange[]): string {
  const count = (kind: DeploymentChange['kind']): number => changes.filter((c) => c.kind === kind).length;
  const lines: string[] = [];
  for (const change of changes) {
    if (change.kind === 'unchanged') continue;
    lines.push(`  ${symbols[change.kind]} ${change.workloadId}`);
    for (const reason of change.reasons) lines.push(`      ${reason}`);
  }
  if (lines.length === 0) lines.push('No changes.');
  const unchanged = count('unchanged');
  const tail = unchanged === 0 ? '' : ` (${unchanged} unchanged)`;
  lines.push(
    '',
    `Plan: ${count('create')} to create, ${count('update')} to update, ${count('remove')} to remove${tail}.`,
  );
  return lines.join('\n');
}
