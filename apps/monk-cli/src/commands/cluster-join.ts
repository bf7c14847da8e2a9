import { Args } from '@oclif/core';
import type { ClusterInfo } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';

export class ClusterJoin extends MonkCommand {
  static override description =
    'Make the local monkd join a cluster with a peer token from monk cluster join-token. (On a machine without monkd, use monk cluster switch TOKEN.)';
  static override examples = ['<%= config.bin %> cluster join monk1.eyJ2Ijo…'];
  static override args = {
    token: Args.string({ required: true, description: 'join token (monk cluster join-token on a member)' }),
  };

  async run(): Promise<ClusterInfo> {
    const { args } = await this.parse(ClusterJoin);
    const info = (await this.client().call('cluster.join', { token: args.token.trim() })) as ClusterInfo;
    if (!this.jsonEnabled()) {
      this.log(
        `Joined cluster ${info.clusterName} (${info.clusterId}) as ${info.peerName}; ${String(info.peers)} peers.`,
      );
    }
    return info;
  }
}
