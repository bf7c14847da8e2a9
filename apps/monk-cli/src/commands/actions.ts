import { Args } from '@oclif/core';
import type { ActionInfo } from '@monk/monkscript';
import { MonkCommand } from '../base-command.ts';

export class Actions extends MonkCommand {
  static override description =
    'List the actions of a template (inheritance merged) with their arguments and descriptions; run one with monk do PATH/ACTION.';
  static override examples = [
    '<%= config.bin %> actions shop/db',
    '<%= config.bin %> actions shop/db --json',
  ];
  static override args = { path: Args.string({ required: true, description: 'template path, e.g. ns/app' }) };

  async run(): Promise<ActionInfo[]> {
    const { args } = await this.parse(Actions);
    const definition = await this.client().dumpTemplate({ path: args.path });
    const { templateActions } = await import('@monk/monkscript');
    const actions = templateActions(definition);
    if (!this.jsonEnabled()) {
      const { renderActions } = await import('../template-info-render.ts');
      this.log(actions.length === 0 ? `${args.path} has no actions.` : renderActions(actions));
    }
    return actions;
  }
}
