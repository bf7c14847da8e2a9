import type { DeployResult } from '@monk/sdk';
import { DeployCommand, deployArgs, runFlags } from './deploy-command.ts';

export class Run extends DeployCommand {
  static override description =
    'Run a runnable or group: resolve its template, place its containers, and follow them until every instance is ready or one fails.';
  static override args = deployArgs;
  static override flags = runFlags;
  static override examples = [
    '<%= config.bin %> run examples/app',
    '<%= config.bin %> run wordpress-mysql/stack --set wordpress-mysql/db/database_name=blog',
    '<%= config.bin %> run examples/web --peer local-2',
    '<%= config.bin %> run examples/web -t edge',
    '<%= config.bin %> run examples/web --force-move',
  ];

  async run(): Promise<DeployResult> {
    return this.deploy('run');
  }
}
