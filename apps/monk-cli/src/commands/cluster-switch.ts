import { hostname } from 'node:os';
import { Args, Flags } from '@oclif/core';
import { MonkError } from '@monk/model';
import { MonkCommand } from '../base-command.ts';

export interface SwitchResult {
  /** The context now current; undefined means the local monkd. */
  readonly context?: string;
  readonly clusterId?: string;
  readonly clusterName?: string;
  readonly peers?: number;
  /** True when this command joined the cluster with a token. */
  readonly joined: boolean;
}

export class ClusterSwitch extends MonkCommand {
  static override description =
    'Choose the cluster that monk commands drive. With an operator token: join the cluster as an operator, save a context for it and make it current. With a context name: make it current. With --local: go back to the local monkd.';
  static override examples = [
    '<%= config.bin %> cluster switch monk1.eyJ2Ijo…',
    '<%= config.bin %> cluster switch prod',
    '<%= config.bin %> cluster switch --local',
  ];
  static override args = {
    target: Args.string({ description: 'an operator join token, or the name of a context' }),
  };
  static override flags = {
    name: Flags.string({ description: "name of the new context (default: the cluster's name)" }),
    local: Flags.boolean({ description: 'use the local monkd again', exclusive: ['name'] }),
  };

  async run(): Promise<SwitchResult> {
    const { args, flags } = await this.parse(ClusterSwitch);
    const store = this.contexts();
    if (flags.local) {
      if (args.target !== undefined) {
        throw new MonkError('INVALID_REQUEST', 'give either --local or a token or context name, not both');
      }
      await store.select(undefined);
      if (!this.jsonEnabled()) this.log('Switched to the local monkd.');
      return { joined: false };
    }
    const target = args.target?.trim();
    if (target === undefined || target === '') {
      throw new MonkError(
        'INVALID_REQUEST',
        'give an operator join token, a context name (see monk cluster contexts), or --local',
      );
    }
    if (!target.startsWith('monk1.')) {
      if (flags.name !== undefined) {
        throw new MonkError('INVALID_REQUEST', '--name names a new context: it goes with a token');
      }
      const context = await store.get(target);
      await store.select(context.name);
      if (!this.jsonEnabled()) this.log(`Switched to cluster ${context.name}.`);
      return {
        context: context.name,
        clusterId: context.clusterId,
        clusterName: context.clusterName,
        peers: context.peers.length,
        joined: false,
      };
    }
    const { joinAsOperator } = await import('../context/operator-join.ts');
    this.startedLibp2p = true;
    const context = await joinAsOperator({
      token: target,
      store,
      operatorName: `${hostname()}-operator`,
      now: new Date(),
      ...(flags.name === undefined ? {} : { name: flags.name }),
    });
    await store.select(context.name);
    if (!this.jsonEnabled()) {
      const count = context.peers.length;
      this.log(`Switched to cluster ${context.name} (${String(count)} peer${count === 1 ? '' : 's'})`);
    }
    return {
      context: context.name,
      clusterId: context.clusterId,
      clusterName: context.clusterName,
      peers: context.peers.length,
      joined: true,
    };
  }
}
