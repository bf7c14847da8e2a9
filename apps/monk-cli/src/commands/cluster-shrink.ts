import { MonkCommand } from '../base-command.ts';

export class ClusterShrink extends MonkCommand {
  static override description =
    'Remove the peers that are dead or have left and own no containers from the cluster.';
  static override examples = ['<%= config.bin %> cluster shrink'];

  async run(): Promise<unknown> {
    await this.parse(ClusterShrink);
    const result = await this.client().call('cluster.shrink', {});
    if (!this.jsonEnabled()) this.log(summarize(result));
    return result;
  }
}

/** A line about what shrink did, from whatever list the daemon answers with. */
function summarize(result: unknown): string {
  const removed =
    typeof result === 'object' && result !== null ? (result as { removed?: unknown }).removed : undefined;
  if (Array.isArray(removed)) {
    return removed.length === 0
      ? 'Nothing to remove: no dead or departed peer without containers.'
      : `Removed ${String(removed.length)} peer(s): ${removed.map(String).join(', ')}`;
  }
  return 'Cluster shrunk.';
}
