import type { InfoResult } from '@monk/sdk';
import { toMonkError } from '@monk/model';
import { MonkCommand } from '../base-command.ts';

/** What `monk version --json` prints. */
export interface VersionResult {
  readonly cli: string;
  readonly node: string;
  /** The daemon's version, when one answers. */
  readonly daemon?: string;
  /** Why the daemon's version is missing (its error code). */
  readonly daemonError?: string;
}

export class Version extends MonkCommand {
  static override description =
    "Print the version of this CLI and of the monkd it talks to (when one answers; the CLI's own version is printed regardless).";
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> version --json'];

  async run(): Promise<VersionResult> {
    await this.parse(Version);
    let daemon: Pick<VersionResult, 'daemon' | 'daemonError'>;
    try {
      const info: InfoResult = await this.client().info();
      daemon = { daemon: info.version };
    } catch (error) {
      daemon = { daemonError: toMonkError(error).code };
    }
    const result: VersionResult = { cli: this.config.version, node: process.version, ...daemon };
    if (!this.jsonEnabled()) {
      this.log(
        [
          `monk ${result.cli} (node ${result.node})`,
          result.daemon === undefined
            ? `monkd: not reachable (${result.daemonError ?? 'unknown'})`
            : `monkd ${result.daemon}`,
        ].join('\n'),
      );
    }
    return result;
  }
}
