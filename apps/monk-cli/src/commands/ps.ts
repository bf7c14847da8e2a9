import { Flags } from '@oclif/core';
import type { PsEntry } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';
import { renderPs } from '../render.ts';

export class Ps extends MonkCommand {
  static override description = 'List running instances with their peer, image, ports and status.';
  static override examples = ['<%= config.bin %> ps', '<%= config.bin %> ps -a --json'];
  static override flags = { all: Flags.boolean({ char: 'a', description: 'include stopped instances' }) };

  async run(): Promise<PsEntry[]> {
    const { flags } = await this.parse(Ps);
    const entries = await this.client().ps({ all: flags.all });
    if (!this.jsonEnabled()) this.log(renderPs(entries));
    return entries;
  }
}
