import { Args, Flags } from '@oclif/core';
import { MonkError } from '@monk/model';
import { MonkCommand } from '../base-command.ts';
import { resolvePeerId } from './cluster-format.ts';

export class ClusterPeerTags extends MonkCommand {
  static override description =
    "Set a peer's tags (they replace the old ones); placement uses them. --tag '' clears them.";
  static override examples = [
    '<%= config.bin %> cluster peer-tags 12D3Ko…x7Yz9q --tag db,ssd',
    "<%= config.bin %> cluster peer-tags node-2 --tag ''",
  ];
  static override args = {
    id: Args.string({
      required: true,
      description: 'peer id (full or as shown by monk cluster peers) or name',
    }),
  };
  static override flags = {
    tag: Flags.string({
      multiple: true,
      required: true,
      description: 'tags, comma-separated or repeated: --tag a,b or --tag a --tag b',
    }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(ClusterPeerTags);
    const tags = [
      ...new Set(
        flags.tag
          .flatMap((t) => t.split(','))
          .map((t) => t.trim())
          .filter((t) => t !== ''),
      ),
    ];
    const bad = tags.find((t) => !/^[A-Za-z0-9][A-Za-z0-9._:=-]*$/.test(t));
    if (bad !== undefined) {
      throw new MonkError('INVALID_REQUEST', `tag "${bad}": use letters, digits, '.', '_', ':', '=' or '-'`);
    }
    const client = this.client();
    const id = await resolvePeerId(client, args.id);
    const result = await client.call('cluster.peerTags', { id, tags });
    if (!this.jsonEnabled()) {
      this.log(tags.length === 0 ? `Cleared the tags of ${id}.` : `Tags of ${id}: ${tags.join(', ')}`);
    }
    return result;
  }
}
