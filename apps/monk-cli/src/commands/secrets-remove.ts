import { Args, Flags } from '@oclif/core';
import type { SecretEntry } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';

export class SecretsRemove extends MonkCommand {
  static override description =
    'Remove a secret. Running containers keep the value they started with; runnables that read it fail to resolve until it is added again.';
  static override examples = [
    '<%= config.bin %> secrets remove db-password',
    '<%= config.bin %> secrets remove api-token --runnable shop/web',
  ];
  static override args = { name: Args.string({ required: true, description: 'secret name' }) };
  static override flags = {
    runnable: Flags.string({ char: 'r', description: 'the runnable the secret belongs to (ns/name)' }),
  };

  async run(): Promise<SecretEntry> {
    const { args, flags } = await this.parse(SecretsRemove);
    const entry = (await this.client().call('secrets.remove', {
      name: args.name,
      ...(flags.runnable === undefined ? {} : { runnable: flags.runnable }),
    })) as SecretEntry;
    if (!this.jsonEnabled()) {
      this.log(
        `Removed secret ${entry.name} (${entry.scope === 'global' ? 'global' : `for ${entry.scope}`})`,
      );
    }
    return entry;
  }
}
