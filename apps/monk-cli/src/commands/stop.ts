import { Args } from '@oclif/core';
import { MonkCommand } from '../base-command.ts';

export class Stop extends MonkCommand {
  static override description =
    'Stop the containers of a running runnable or group; they are kept, and monk run starts them again.';
  static override examples = ['<%= config.bin %> stop examples/app'];
  static override args = { path: Args.string({ required: true, description: 'template path, e.g. ns/app' }) };

  async run(): Promise<{ stopped: string[] }> {
    const { args } = await this.parse(Stop);
    const result = await this.client().stop({ path: args.path });
    if (!this.jsonEnabled()) this.log(`Stopped ${result.stopped.length} container(s) of ${args.path}.`);
    return result;
  }
}
