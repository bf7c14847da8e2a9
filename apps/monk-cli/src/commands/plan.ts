import { Args, Flags } from '@oclif/core';
import type { PlanResult } from '@monk/sdk';
import { MonkCommand, parseSetFlags } from '../base-command.ts';
import { readVariablesFile } from '../variables-file.ts';

export class Plan extends MonkCommand {
  static override description =
    'Show the steps that monk run/update would take for a template, without taking them.';
  static override examples = [
    '<%= config.bin %> plan examples/app',
    '<%= config.bin %> plan examples/app --set greeting=hi --json',
  ];
  static override args = { path: Args.string({ required: true, description: 'template path, e.g. ns/app' }) };
  static override flags = {
    set: Flags.string({
      multiple: true,
      description: 'set a variable: name=value or ns/runnable/name=value',
    }),
    'variables-file': Flags.string({ description: 'YAML file of variables' }),
    strict: Flags.boolean({
      description: 'refuse a --set of a variable the template does not declare (default: warn)',
    }),
  };

  async run(): Promise<PlanResult> {
    const { args, flags } = await this.parse(Plan);
    const variables = {
      ...(flags['variables-file'] === undefined ? {} : await readVariablesFile(flags['variables-file'])),
      ...parseSetFlags(flags.set),
    };
    const client = this.client();
    const plan = await client.plan({ path: args.path, variables, strict: flags.strict });
    if (!this.jsonEnabled()) {
      for (const warning of plan.warnings) process.stderr.write(`warning: ${warning}\n`);
      this.log(plan.text);
    }
    return plan;
  }
}
