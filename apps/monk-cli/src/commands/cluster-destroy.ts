import { createInterface } from 'node:readline/promises';
import { Flags } from '@oclif/core';
import { MonkError } from '@monk/model';
import type { ClusterInfo } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';

export class ClusterDestroy extends MonkCommand {
  static override description =
    'Destroy the cluster: remove every other peer from it, then the answering peer leaves it too. Asks for confirmation unless --force.';
  static override aliases = ['cluster:nuke'];
  static override examples = [
    '<%= config.bin %> cluster destroy',
    '<%= config.bin %> cluster nuke --force',
    '<%= config.bin %> cluster destroy --force',
  ];
  static override flags = {
    force: Flags.boolean({ description: 'do not ask for confirmation (needed without a terminal)' }),
  };

  async run(): Promise<{ destroyed: string }> {
    const { flags } = await this.parse(ClusterDestroy);
    const client = this.client();
    const info = (await client.call('cluster.info', {})) as ClusterInfo;
    const label = `${info.clusterName} (${info.clusterId}, ${String(info.peers)} peers)`;
    if (!flags.force) {
      if (process.stdin.isTTY !== true) {
        throw new MonkError(
          'INVALID_REQUEST',
          `refusing to destroy cluster ${label} without a terminal to confirm; add --force`,
        );
      }
      const prompt = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await prompt.question(`Destroy cluster ${label}? Type its name to confirm: `);
      prompt.close();
      if (answer.trim() !== info.clusterName) {
        throw new MonkError('CANCELLED', `cluster ${info.clusterName} was not destroyed`);
      }
    }
    await client.call('cluster.destroy', {});
    const target = this.target();
    if (target.kind === 'context') await this.contexts().forget(target.name);
    if (!this.jsonEnabled()) {
      this.log(
        `Destroyed cluster ${label}.${target.kind === 'context' ? ` Forgot context ${target.name}.` : ''}`,
      );
    }
    return { destroyed: info.clusterId };
  }
}
