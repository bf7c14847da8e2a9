import { toMonkError } from '@monk/model';
import { MonkCommand } from '../base-command.ts';

export class ClusterExit extends MonkCommand {
  static override description =
    'Leave the cluster. With an operator context: remove this operator from the cluster and forget the context. Otherwise: the local monkd leaves the cluster.';
  static override examples = [
    '<%= config.bin %> cluster exit',
    '<%= config.bin %> cluster exit --cluster staging',
  ];

  async run(): Promise<{ context?: string; left: boolean }> {
    await this.parse(ClusterExit);
    const target = this.target();
    if (target.kind === 'socket') {
      await this.client().call('cluster.exit', {});
      if (!this.jsonEnabled()) this.log(`The monkd at ${target.path} left its cluster.`);
      return { left: true };
    }
    const store = this.contexts();
    const { operatorPeerId } = await import('../context/operator-join.ts');
    const peerId = await operatorPeerId(store, target.name).catch(() => undefined);
    let left = false;
    if (peerId !== undefined && (await store.find(target.name).catch(() => undefined)) !== undefined) {
      // Best effort: an unreachable cluster must not keep a machine from forgetting it.
      try {
        left = await this.removeSelf(peerId);
      } catch (error) {
        const monkError = toMonkError(error);
        process.stderr.write(
          `warning: could not remove this operator (${peerId}) from cluster ${target.name}: ${monkError.message}\n` +
            `  a member can still remove it with monk cluster peer-remove ${peerId}\n`,
        );
      }
    }
    const existed = await store.forget(target.name);
    if (!this.jsonEnabled()) {
      this.log(
        existed
          ? `Forgot cluster context ${target.name}${left ? ' (this operator was removed from the cluster)' : ''}. Commands now go to the local monkd.`
          : `There was no cluster context ${target.name}.`,
      );
    }
    return { context: target.name, left };
  }

  /**
   * Removes this operator from the cluster. The peer drops our connection as it removes us, so the answer
   * may never arrive: then a second call being refused (`NOT_A_MEMBER`) is the proof.
   */
  private async removeSelf(peerId: string): Promise<boolean> {
    const client = this.client();
    try {
      await client.call('cluster.peerRemove', { id: peerId });
      return true;
    } catch (error) {
      const code = toMonkError(error).code;
      if (code === 'PEER_NOT_FOUND') return true;
      if (code !== 'PEER_UNREACHABLE' && code !== 'PROTOCOL_ERROR') throw error;
      const refused = await client.call('cluster.info', {}).then(
        () => false,
        (again: unknown) => toMonkError(again).code === 'NOT_A_MEMBER',
      );
      if (!refused) throw error;
      return true;
    }
  }
}
