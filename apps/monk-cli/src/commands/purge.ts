import { Args, Flags } from '@oclif/core';
import { MonkCommand } from '../base-command.ts';

export class Purge extends MonkCommand {
  static override description =
    'Remove the containers of a runnable or group; with --excise also remove its template.';
  static override examples = [
    '<%= config.bin %> purge examples/app',
    '<%= config.bin %> purge --excise examples/app',
  ];
  static override args = { path: Args.string({ required: true, description: 'template path, e.g. ns/app' }) };
  static override flags = {
    excise: Flags.boolean({ description: 'also remove the template from the cluster' }),
  };

  async run(): Promise<{ removed: string[]; excised: string[] }> {
    const { args, flags } = await this.parse(Purge);
    const result = await this.client().purge({ path: args.path, excise: flags.excise });
    if (!this.jsonEnabled()) {
      this.log(`Removed ${result.removed.length} container(s) of ${args.path}.`);
      if (result.excised.length > 0) this.log(`Removed template ${result.excised.join(', ')}.`);
    }
    return result;
  }
}
