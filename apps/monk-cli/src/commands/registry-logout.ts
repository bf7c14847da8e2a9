import { Args } from '@oclif/core';
import type { RegistryEntry } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';

export class RegistryLogout extends MonkCommand {
  static override description = "Forget the cluster's credentials for a container registry.";
  static override examples = ['<%= config.bin %> registry logout registry.example.com'];
  static override args = {
    server: Args.string({ required: true, description: 'the registry host' }),
  };

  async run(): Promise<RegistryEntry> {
    const { args } = await this.parse(RegistryLogout);
    const entry = (await this.client().call('registry.logout', { server: args.server })) as RegistryEntry;
    if (!this.jsonEnabled()) this.log(`Forgot the credentials for ${entry.server}`);
    return entry;
  }
}
