import { Args } from '@oclif/core';
import { MonkCommand } from '../base-command.ts';
import { resolvePeerId } from './cluster-format.ts';

export class ClusterPeerRemove extends MonkCommand {
  static override description =
    'Remove a peer or operator from the cluster: the others stop admitting it and its workloads are placed elsewhere.';
  static override examples = ['<%= config.bin %> cluster peer-remove 12D3Ko…x7Yz9q'];
  static override args = {
    id: Args.string({
      required: true,
      description: 'peer id (full or as shown by monk cluster peers) or name',
    }),
  };

  async run(): Promise<unknown> {
    const { args } = await this.parse(ClusterPeerRemove);
    const client = this.client();
    const id = await resolvePeerId(client, args.id);
    const result = await client.call('cluster.peerRemove', { id });
    if (!this.jsonEnabled()) this.log(`Removed ${id} from the cluster.`);
    return result;
  }
}
