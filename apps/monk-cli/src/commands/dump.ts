import { Args } from '@oclif/core';
import type { JsonObject } from '@monk/model';
import { MonkCommand } from '../base-command.ts';

export class Dump extends MonkCommand {
  static override description =
    'Print a template as monk resolves it (inheritance merged; secret values never shown).';
  static override examples = ['<%= config.bin %> dump examples/app'];
  static override args = { path: Args.string({ required: true, description: 'template path, e.g. ns/app' }) };

  async run(): Promise<JsonObject> {
    const { args } = await this.parse(Dump);
    const template = await this.client().dumpTemplate({ path: args.path });
    if (!this.jsonEnabled()) this.log(JSON.stringify(template, null, 2));
    return template;
  }
}
