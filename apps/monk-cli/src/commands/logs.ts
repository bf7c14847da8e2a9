import { Args, Flags } from '@oclif/core';
import type { LogEvent } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';

export class Logs extends MonkCommand {
  static override description = 'Print the logs of the containers of a runnable or group.';
  static override examples = [
    '<%= config.bin %> logs examples/app',
    '<%= config.bin %> logs -f -l 20 examples/app/web',
  ];
  static override args = { path: Args.string({ required: true, description: 'template path, e.g. ns/app' }) };
  static override flags = {
    follow: Flags.boolean({ char: 'f', description: 'keep printing new lines' }),
    container: Flags.string({ char: 'c', description: 'only this container of the runnable' }),
    lines: Flags.integer({ char: 'l', description: 'only the last N lines of each container' }),
  };

  async run(): Promise<LogEvent[]> {
    const { args, flags } = await this.parse(Logs);
    const client = this.client();
    const collected: LogEvent[] = [];
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    const many = new Set<string>();
    await client
      .logs(
        {
          path: args.path,
          follow: flags.follow,
          ...(flags.container === undefined ? {} : { container: flags.container }),
          ...(flags.lines === undefined ? {} : { tail: flags.lines }),
        },
        {
          signal: controller.signal,
          onLog: (event) => {
            many.add(event.workloadId);
            if (this.jsonEnabled()) collected.push(event);
            else {
              const out = event.stream === 'stderr' ? process.stderr : process.stdout;
              out.write(`${event.line}\n`);
            }
          },
        },
      )
      .catch((error: unknown) => {
        if (!controller.signal.aborted) throw error;
      });
    return collected;
  }
}
