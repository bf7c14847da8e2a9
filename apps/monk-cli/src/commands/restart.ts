import { Args, Flags } from '@oclif/core';
import { MonkCommand } from '../base-command.ts';

export class Restart extends MonkCommand {
  static override description =
    'Restart the running containers of a runnable or group on the peers that run them: the same containers, stopped and started again (their files and ids survive). Waits until each is running again (ready, when it has a readiness check).';
  static override examples = [
    '<%= config.bin %> restart shop/web',
    '<%= config.bin %> restart shop/stack --timeout 300',
  ];
  static override args = { path: Args.string({ required: true, description: 'template path, e.g. ns/app' }) };
  static override flags = {
    timeout: Flags.integer({ description: 'seconds to wait for every container to be back', default: 120 }),
  };

  async run(): Promise<{ restarted: string[] }> {
    const { args, flags } = await this.parse(Restart);
    const result = (await this.client().call('restart', {
      path: args.path,
      timeoutSeconds: flags.timeout,
    })) as { restarted: string[] };
    if (!this.jsonEnabled()) {
      this.log(
        `Restarted ${result.restarted.length} container${result.restarted.length === 1 ? '' : 's'} of ${args.path}: ${result.restarted.join(', ')}`,
      );
    }
    return result;
  }
}
