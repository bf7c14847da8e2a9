import { Args, Flags } from '@oclif/core';
import { MonkError } from '@monk/model';
import { MonkCommand } from '../base-command.ts';

export class Exec extends MonkCommand {
  static override description =
    'Run a command in a container of a runnable and print its output; exits with its exit code.';
  static override examples = [
    '<%= config.bin %> exec examples/app -- cat /etc/hostname',
    '<%= config.bin %> exec -c web examples/app -- ls /',
  ];
  static override strict = false;
  static override args = { path: Args.string({ required: true, description: 'template path, e.g. ns/app' }) };
  static override flags = {
    container: Flags.string({ char: 'c', description: 'container of the runnable (default: the first)' }),
    interactive: Flags.boolean({ char: 'i', description: 'pass standard input to the command' }),
  };

  async run(): Promise<{ exitCode: number }> {
    const { args, argv, flags } = await this.parse(Exec);
    const command = (argv as string[]).slice(1);
    if (command.length === 0)
      throw new MonkError('INVALID_REQUEST', 'give the command after --, e.g. monk exec ns/app -- ls /');
    const result = await this.client().exec(
      {
        path: args.path,
        command,
        tty: false,
        ...(flags.container === undefined ? {} : { container: flags.container }),
      },
      {
        onOutput: (stream, data) => (stream === 'stderr' ? process.stderr : process.stdout).write(data),
        ...(flags.interactive ? { stdin: process.stdin } : {}),
      },
    );
    process.exitCode = result.exitCode;
    return result;
  }
}
