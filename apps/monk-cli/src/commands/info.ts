import type { InfoResult } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';
import { describeTarget } from '../context/control-target.ts';

export class Info extends MonkCommand {
  static override description =
    'Show the monkd this CLI talks to: peer, version, data dir, container runtime.';
  static override examples = ['<%= config.bin %> info'];

  async run(): Promise<InfoResult & { context: string }> {
    const context = describeTarget(this.target());
    const info = await this.client().info();
    if (!this.jsonEnabled()) {
      this.log(
        [
          `context:  ${context}`,
          `peer:     ${info.peerName} (${info.peerId})`,
          `version:  ${info.version}`,
          `data dir: ${info.dataDir}`,
          `started:  ${info.startedAt}`,
          `runtime:  ${info.runtime.available ? `docker ${info.runtime.version ?? ''}`.trim() : `unavailable: ${info.runtime.message ?? ''}`}`,
          ...(info.problems ?? []).map((p) => `problem:  ${p.code}: ${p.message}`),
        ].join('\n'),
      );
    }
    return { ...info, context };
  }
}
