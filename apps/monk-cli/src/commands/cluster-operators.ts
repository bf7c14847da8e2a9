import type { PeerEntry } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';
import { operatorsOf, renderOperators, type OperatorEntry } from './cluster-format.ts';

export class ClusterOperators extends MonkCommand {
  static override description =
    'List the operators of the cluster with their access (view, deploy or admin). Remove one with monk cluster peer-remove.';
  static override examples = [
    '<%= config.bin %> cluster operators',
    '<%= config.bin %> cluster operators --json',
  ];

  async run(): Promise<OperatorEntry[]> {
    await this.parse(ClusterOperators);
    const operators = operatorsOf((await this.client().call('cluster.peers', {})) as PeerEntry[]);
    if (!this.jsonEnabled()) this.log(renderOperators(operators, new Date()));
    return operators;
  }
}
