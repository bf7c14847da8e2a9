import { Flags } from '@oclif/core';
import type { SecretEntry } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';
import { renderTable } from '../render.ts';

export class SecretsList extends MonkCommand {
  static override description =
    'List stored secrets: names, scopes and when they changed. Never their values.';
  static override examples = [
    '<%= config.bin %> secrets list',
    '<%= config.bin %> secrets list --runnable shop/web --json',
  ];
  static override flags = {
    runnable: Flags.string({ char: 'r', description: 'only the secrets of this runnable (ns/name)' }),
  };

  async run(): Promise<SecretEntry[]> {
    const { flags } = await this.parse(SecretsList);
    const entries = (await this.client().call(
      'secrets.list',
      flags.runnable === undefined ? {} : { runnable: flags.runnable },
    )) as SecretEntry[];
    if (!this.jsonEnabled()) {
      this.log(
        entries.length === 0
          ? 'No secrets. Add one with monk secrets add NAME -'
          : renderTable(
              ['NAME', 'SCOPE', 'UPDATED'],
              entries.map((e) => [e.name, e.scope, e.updatedAt]),
            ),
      );
    }
    return entries;
  }
}
