import { Args, Flags } from '@oclif/core';
import { MonkCommand } from '../base-command.ts';

export class Shell extends MonkCommand {
  static override description = 'Open an interactive shell in a container of a runnable.';
  static override examples = ['<%= config.bin %> shell examples/app'];
  static override args = { path: Args.string({ required: true, description: 'template path, e.g. ns/app' }) };
  static override flags = {
    container: Flags.string({ char: 'c', description: 'container of the runnable (default: the first)' }),
    shell: Flags.string({ description: 'shell to start', default: '/bin/sh' }),
  };

  async run(): Promise<{ exitCode: number }> {
    const { args, flags } = await this.parse(Shell);
    const tty = process.stdin.isTTY;
    if (tty) process.stdin.setRawMode(true);
    try {
      const result = await this.client().exec(
        {
          path: args.path,
          command: [flags.shell],
          tty,
          ...(flags.container === undefined ? {} : { container: flags.container }),
        },
        {
          onOutput: (stream, data) => (stream === 'stderr' ? process.stderr : process.stdout).write(data),
          stdin: process.stdin,
        },
      );
      process.exitCode = result.exitCode;
      return result;
    } finally {
      if (tty) process.stdin.setRawMode(false);
      process.stdin.pause();
    }
  }
}
