import { Args } from '@oclif/core';
import type { DescribeResult } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';
import { statusOf } from '../render.ts';
import { describeConflict } from '../render-events.ts';

export class Describe extends MonkCommand {
  static override description =
    'Show everything monk knows about a runnable or group: deployment, instances, status, errors.';
  static override examples = ['<%= config.bin %> describe examples/app'];
  static override args = { path: Args.string({ required: true, description: 'template path, e.g. ns/app' }) };

  async run(): Promise<DescribeResult> {
    const { args } = await this.parse(Describe);
    const result = await this.client().describe({ path: args.path });
    if (!this.jsonEnabled()) {
      const lines = [`${result.path} (${result.kind})`];
      if (result.deployment === undefined) lines.push('  not running');
      else {
        lines.push(
          `  state:      ${result.deployment.state} (generation ${result.deployment.generation}, ${result.deployment.updatedAt})`,
        );
        const vars = Object.entries(result.deployment.variables);
        if (vars.length > 0) lines.push(`  variables:  ${vars.map(([k, v]) => `${k}=${v}`).join(', ')}`);
      }
      for (const w of result.workloads) {
        lines.push('', `  ${w.workloadId}`);
        lines.push(
          `    container:  ${w.name}${w.containerId === undefined ? '' : ` (${w.containerId.slice(0, 12)})`}`,
        );
        lines.push(`    image:      ${w.image}`);
        lines.push(`    peer:       ${w.peer === '' ? '(none: unschedulable)' : w.peer}`);
        lines.push(`    hostnames:  ${[w.name, ...w.aliases].join(', ')}`);
        if (w.ports.length > 0) lines.push(`    ports:      ${w.ports.join(', ')}`);
        if (w.dependsOn.length > 0) lines.push(`    depends on: ${w.dependsOn.join(', ')}`);
        lines.push(`    status:     ${statusOf(w)}`);
        if (w.errorCode !== undefined) lines.push(`    error:      ${w.errorCode}`);
        if (w.placement !== undefined) {
          lines.push('    placement:  no peer can run it now; it is placed when one has room');
          for (const peer of w.placement.peers) {
            lines.push(`      ${(peer.peerName ?? peer.peer).padEnd(20)} ${peer.reason}`);
          }
          if (w.placement.peers.length === 0) lines.push(`      ${w.placement.reason}`);
        }
      }
      if (result.conflicts.length > 0) {
        lines.push('', '  conflicts (writes that lost to a concurrent write; the later write wins):');
        for (const conflict of result.conflicts)
          lines.push(...describeConflict(conflict).map((l) => `    ${l}`));
      }
      this.log(lines.join('\n'));
    }
    return result;
  }
}
