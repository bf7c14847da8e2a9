import type { RegistryEntry } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';
import { renderTable } from '../render.ts';

export class RegistryList extends MonkCommand {
  static override description = 'List the registries the cluster has credentials for (never the passwords).';
  static override examples = ['<%= config.bin %> registry list'];

  async run(): Promise<RegistryEntry[]> {
    await this.parse(RegistryList);
    const entries = (await this.client().call('registry.list', {})) as RegistryEntry[];
    if (!this.jsonEnabled()) {
      this.log(
        entries.length === 0
          ? 'No registry credentials. Add some with monk registry login SERVER -u USER --password-stdin'
          : renderTable(
              ['SERVER', 'USERNAME', 'UPDATED'],
              entries.map((e) => [e.server, e.username, e.updatedAt]),
            ),
      );
    }
    return entries;
  }
}
