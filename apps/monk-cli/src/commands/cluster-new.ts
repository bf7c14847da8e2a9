import { Flags } from '@oclif/core';
import type { ClusterInfo } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';

export class ClusterNew extends MonkCommand {
  static override description =
    'Make the local monkd the first peer of a new cluster (it gets a cluster id and a network key).';
  static override examples = [
    '<%= config.bin %> cluster new --name prod',
    '<%= config.bin %> cluster new --name lab --mesh-cidr 172.20.0.0/16',
  ];
  static override flags = {
    name: Flags.string({ description: 'name of the cluster (default: chosen by monkd)' }),
    'mesh-cidr': Flags.string({
      description:
        'IPv4 range of the workload LAN, cut into one /24 per peer (default: 10.240.0.0/12, room for 4080 peers)',
    }),
  };

  async run(): Promise<ClusterInfo> {
    const { flags } = await this.parse(ClusterNew);
    const info = (await this.client().call('cluster.new', {
      ...(flags.name === undefined ? {} : { name: flags.name }),
      ...(flags['mesh-cidr'] === undefined ? {} : { meshCidr: flags['mesh-cidr'] }),
    })) as ClusterInfo;
    if (!this.jsonEnabled()) {
      this.log(`Created cluster ${info.clusterName} (${info.clusterId}).`);
      this.log('Add hosts with: monk cluster join $(monk cluster join-token)   (run join on the new host)');
    }
    return info;
  }
}
