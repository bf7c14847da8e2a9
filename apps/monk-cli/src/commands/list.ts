import type { TemplateSummary } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';
import { renderTable } from '../render.ts';

export class List extends MonkCommand {
  static override description =
    'List the templates stored in the cluster: runnables, groups, services, entities.';
  static override aliases = ['ls'];
  static override examples = ['<%= config.bin %> list', '<%= config.bin %> ls --json'];

  async run(): Promise<TemplateSummary[]> {
    const client = this.client();
    const templates = await client.listTemplates();
    if (!this.jsonEnabled()) {
      this.log(
        templates.length === 0
          ? 'No templates loaded. Load some with monk load FILE.'
          : renderTable(
              ['TYPE', 'TEMPLATE', 'RUNNING', 'FILE'],
              templates.map((t) => [
                t.kind,
                t.private ? `${t.path} (private)` : t.path,
                t.running ? 'yes' : '',
                t.file,
              ]),
            ),
      );
    }
    return templates;
  }
}
