import { Args, Flags } from '@oclif/core';
import { MonkError } from '@monk/model';
import type { DeployResult, ProgressEvent } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';
import { renderPs } from '../render.ts';

export class Scale extends MonkCommand {
  static override description =
    'Set how many replicas of a running runnable run; new replicas spread across peers, removed ones are the highest numbered. Kept by later updates.';
  static override examples = [
    '<%= config.bin %> scale examples/web 3',
    '<%= config.bin %> scale examples/app/web 2 --no-wait',
  ];
  static override args = {
    path: Args.string({ required: true, description: 'a running runnable, e.g. ns/web' }),
    replicas: Args.string({ required: true, description: 'how many replicas (1 or more)' }),
  };
  static override flags = {
    'no-wait': Flags.boolean({ description: 'return once the change is accepted, without waiting' }),
    timeout: Flags.integer({ description: 'seconds to wait for every replica to be ready', default: 300 }),
  };

  async run(): Promise<DeployResult> {
    const { args, flags } = await this.parse(Scale);
    const replicas = Number(args.replicas);
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 1000) {
      throw new MonkError(
        'INVALID_REQUEST',
        `replicas must be a whole number from 1 to 1000, not ${args.replicas}`,
      );
    }
    const quiet = this.jsonEnabled();
    const onProgress = (event: ProgressEvent): void => {
      if (quiet) return;
      process.stderr.write(`  ${event.workloadId.padEnd(40)} ${event.ready ? 'ready' : event.phase}\n`);
    };
    const result = await this.client().scale(
      { path: args.path, replicas, wait: !flags['no-wait'], timeoutSeconds: flags.timeout },
      { onProgress },
    );
    if (!quiet) {
      for (const item of result.unschedulable ?? []) {
        process.stderr.write(`unschedulable: ${item.workloadId}: ${item.reason}\n`);
      }
      this.log(renderPs(result.workloads));
      this.log(`\n${args.path} scaled to ${replicas} (generation ${result.generation}).`);
    }
    return result;
  }
}
