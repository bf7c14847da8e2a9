import { Args } from '@oclif/core';
import { MonkError, type JsonValue } from '@monk/model';
import { MonkCommand } from '../base-command.ts';

export class Do extends MonkCommand {
  static override description =
    'Run an action of a running runnable (its `actions` in MonkScript) with name=value arguments, and print what it returns.';
  static override examples = [
    '<%= config.bin %> do shop/db/backup target=/backups/today',
    '<%= config.bin %> do mongodb-sharded/mongodb-1/create-cluster',
  ];
  static override strict = false;
  static override args = {
    action: Args.string({ required: true, description: 'NAMESPACE/RUNNABLE/ACTION' }),
  };

  async run(): Promise<{ value: JsonValue; secret?: boolean }> {
    const { args, argv } = await this.parse(Do);
    const path = args.action.replace(/^\/+/, '');
    const cut = path.lastIndexOf('/');
    if (cut < 0 || !path.slice(0, cut).includes('/') || cut === path.length - 1) {
      throw new MonkError(
        'INVALID_REQUEST',
        `${args.action}: expected NAMESPACE/RUNNABLE/ACTION, e.g. monk do shop/db/backup`,
      );
    }
    const actionArgs: Record<string, string> = {};
    for (const entry of (argv as string[]).slice(1)) {
      const eq = entry.indexOf('=');
      if (eq <= 0) throw new MonkError('INVALID_REQUEST', `${entry}: arguments are name=value`);
      actionArgs[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    const result = (await this.client().call('do', {
      path: path.slice(0, cut),
      action: path.slice(cut + 1),
      args: actionArgs,
    })) as { value: JsonValue; secret?: boolean };
    if (!this.jsonEnabled()) {
      const { value } = result;
      if (typeof value === 'string') process.stdout.write(value.endsWith('\n') ? value : `${value}\n`);
      else if (value !== null) this.log(JSON.stringify(value, null, 2));
    }
    return result;
  }
}
