import { Flags } from '@oclif/core';
import type { GrownHost } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';
import { renderTable, shortPeerId } from '../render.ts';

export class ClusterGrow extends MonkCommand {
  static override description =
    'Add hosts to the cluster. With -p local, each host is a network namespace of this machine with its own Docker engine and monkd, joined with a fresh peer token: a multi-host cluster on a laptop. Local hosts need monkd to run as root.';
  static override examples = [
    'sudo <%= config.bin %> cluster grow -p local -m 3',
    'sudo <%= config.bin %> cluster grow -p local --name db -t role=db',
    'sudo <%= config.bin %> cluster grow -p local -m 2 --subnet 10.50.0.0/24',
  ];
  static override flags = {
    provider: Flags.string({
      char: 'p',
      required: true,
      options: ['local'],
      description: 'where the hosts come from (local: namespaces of this machine)',
    }),
    count: Flags.integer({ char: 'm', default: 1, min: 1, max: 32, description: 'how many hosts' }),
    name: Flags.string({ description: 'host name (NAME-1, NAME-2… for several; default local-N)' }),
    tag: Flags.string({
      char: 't',
      multiple: true,
      description: 'tag of the new peers (repeatable); they also get provider=local',
    }),
    subnet: Flags.string({ description: 'underlay subnet of local hosts (default 10.213.0.0/24)' }),
  };

  async run(): Promise<{ hosts: GrownHost[] }> {
    const { flags } = await this.parse(ClusterGrow);
    const quiet = this.jsonEnabled();
    const result = (await this.client().call(
      'cluster.grow',
      {
        provider: flags.provider,
        count: flags.count,
        tags: flags.tag ?? [],
        ...(flags.name === undefined ? {} : { name: flags.name }),
        ...(flags.subnet === undefined ? {} : { subnet: flags.subnet }),
      },
      {
        onEvent: (event) => {
          if (!quiet && event['type'] === 'grow') {
            process.stderr.write(`  ${String(event['host']).padEnd(16)} ${String(event['step'])}\n`);
          }
        },
      },
    )) as { hosts: GrownHost[] };
    if (!quiet) {
      this.log(
        renderTable(
          ['NAME', 'ID', 'ADDRESS', 'TAGS'],
          result.hosts.map((h) => [h.name, shortPeerId(h.peerId), h.address, h.tags.join(',')]),
        ),
      );
      this.log(
        `\nGrew the cluster by ${String(result.hosts.length)} host(s). See them with monk cluster peers.`,
      );
    }
    return result;
  }
}
