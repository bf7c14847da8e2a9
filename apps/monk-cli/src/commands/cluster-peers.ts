import type { PeerEntry } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';
import { renderPeers } from './cluster-format.ts';

export class ClusterPeers extends MonkCommand {
  static override description =
    'List the members of the cluster: peers and operators, their tags, addresses, state and containers.';
  static override examples = ['<%= config.bin %> cluster peers', '<%= config.bin %> cluster peers --json'];

  async run(): Promise<PeerEntry[]> {
    await this.parse(ClusterPeers);
    const peers = (await this.client().call('cluster.peers', {})) as PeerEntry[];
    await this.refreshContext(peers);
    if (!this.jsonEnabled()) this.log(renderPeers(peers, new Date()));
    return peers;
  }

  /** An operator context learns the cluster's current peers, so it still finds one when old ones leave. */
  private async refreshContext(peers: readonly PeerEntry[]): Promise<void> {
    const target = this.target();
    if (target.kind !== 'context') return;
    const reachable = peers
      .filter(
        (p) => p.role === 'peer' && p.addresses.length > 0 && (p.state === 'alive' || p.state === 'suspect'),
      )
      .sort((a, b) => (a.state === b.state ? 0 : a.state === 'alive' ? -1 : 1))
      .map((p) => ({ id: p.id, name: p.name, addresses: [...p.addresses] }));
    if (reachable.length === 0) return;
    const store = this.contexts();
    const context = await store.find(target.name);
    if (context === undefined) return;
    await store.save({ ...context, peers: reachable }).catch(() => undefined);
  }
}
