import { MonkCommand } from '../base-command.ts';
import { renderTable } from '../render.ts';

/** A context as listed: never its network key. */
export interface ContextSummary {
  readonly name: string;
  readonly clusterId: string;
  readonly clusterName: string;
  readonly peers: number;
  readonly current: boolean;
}

export class ClusterContexts extends MonkCommand {
  static override description =
    'List the operator contexts of this machine (clusters it can drive without a local monkd); * marks the current one.';
  static override examples = ['<%= config.bin %> cluster contexts'];

  async run(): Promise<ContextSummary[]> {
    await this.parse(ClusterContexts);
    const store = this.contexts();
    const current = await store.current();
    const contexts = (await store.list()).map((c) => ({
      name: c.name,
      clusterId: c.clusterId,
      clusterName: c.clusterName,
      peers: c.peers.length,
      current: c.name === current,
    }));
    if (!this.jsonEnabled()) {
      if (contexts.length === 0) {
        this.log('No cluster contexts. Make one with monk cluster switch TOKEN (an operator join token).');
      } else {
        this.log(
          renderTable(
            ['NAME', 'CLUSTER ID', 'PEERS', 'CURRENT'],
            contexts.map((c) => [c.name, c.clusterId, String(c.peers), c.current ? '*' : '']),
          ),
        );
      }
      if (current === undefined) this.log('\nCurrent: the local monkd.');
      else if (!contexts.some((c) => c.current)) {
        this.log(`\nCurrent: ${current}, which does not exist; pick one with monk cluster switch NAME.`);
      }
    }
    return contexts;
  }
}
