import type { DeployResult } from '@monk/sdk';
import { DeployCommand, deployArgs, deployFlags } from './deploy-command.ts';

export class Update extends DeployCommand {
  static override description =
    'Re-resolve a running runnable or group from its current template and apply the difference (only changed containers are replaced).';
  static override args = deployArgs;
  static override flags = deployFlags;
  static override examples = ['<%= config.bin %> update examples/app'];

  async run(): Promise<DeployResult> {
    return this.deploy('update');
  }
}
