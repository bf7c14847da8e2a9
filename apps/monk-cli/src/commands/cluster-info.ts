import type { ClusterInfo as ClusterInfoResult } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';
import { describeTarget } from '../context/control-target.ts';

export class ClusterInfo extends MonkCommand {
  static override description =
    'Show the cluster this CLI talks to: its id and name, the answering peer, how many peers are alive, and the context in use.';
  static override examples = ['<%= config.bin %> cluster info'];

  async run(): Promise<ClusterInfoResult & { context: string }> {
    await this.parse(ClusterInfo);
    const context = describeTarget(this.target());
    const info = (await this.client().call('cluster.info', {})) as ClusterInfoResult;
    if (!this.jsonEnabled()) {
      this.log(
        [
          `context:   ${context}`,
          `cluster:   ${info.clusterName} (${info.clusterId})`,
          `peer:      ${info.peerName} (${info.peerId})`,
          `addresses: ${info.addresses.length === 0 ? '-' : info.addresses.join(', ')}`,
          `peers:     ${String(info.peers)} (${String(info.alive)} alive)`,
        ].join('\n'),
      );
    }
    return { ...info, context };
  }
}
