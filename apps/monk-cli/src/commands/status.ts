import type { ClusterInfo, InfoResult } from '@monk/sdk';
import { toMonkError } from '@monk/model';
import { MonkCommand } from '../base-command.ts';
import { describeTarget } from '../context/control-target.ts';

/** What `monk status --json` prints. */
export interface StatusResult {
  readonly context: string;
  readonly daemon: Pick<InfoResult, 'peerId' | 'peerName' | 'version' | 'startedAt'> & {
    readonly runtime: string;
    readonly problems: number;
  };
  /** The cluster, or `null` when the peer is in none (its error code in `clusterError`). */
  readonly cluster: Pick<ClusterInfo, 'clusterId' | 'clusterName' | 'peers' | 'alive'> | null;
  readonly clusterError?: string;
  readonly templates: number;
  readonly deployments: number;
  /** Instances of every deployment: all of them, running ones, ready ones. */
  readonly instances: { readonly total: number; readonly running: number; readonly ready: number };
}

export class Status extends MonkCommand {
  static override description =
    'A one-screen summary: the daemon (peer, version, runtime), its cluster (name, peers alive), the templates loaded, deployments and how many instances run and are ready.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json'];

  async run(): Promise<StatusResult> {
    await this.parse(Status);
    const client = this.client();
    const info = await client.info();
    let cluster: StatusResult['cluster'] = null;
    let clusterError: string | undefined;
    try {
      const { clusterId, clusterName, peers, alive } = (await client.call('cluster.info', {})) as ClusterInfo;
      cluster = { clusterId, clusterName, peers, alive };
    } catch (error) {
      clusterError = toMonkError(error).code;
    }
    const [templates, instances] = await Promise.all([client.listTemplates(), client.ps({ all: true })]);
    const result: StatusResult = {
      context: describeTarget(this.target()),
      daemon: {
        peerId: info.peerId,
        peerName: info.peerName,
        version: info.version,
        startedAt: info.startedAt,
        runtime: info.runtime.available
          ? `docker ${info.runtime.version ?? ''}`.trim()
          : `unavailable: ${info.runtime.message ?? ''}`,
        problems: (info.problems ?? []).length,
      },
      cluster,
      ...(clusterError === undefined ? {} : { clusterError }),
      templates: templates.length,
      deployments: templates.filter((template) => template.running).length,
      instances: {
        total: instances.length,
        running: instances.filter((entry) => entry.state === 'running' || entry.state === 'ready').length,
        ready: instances.filter((entry) => entry.ready).length,
      },
    };
    if (!this.jsonEnabled()) {
      const { daemon, instances: counts } = result;
      this.log(
        [
          `context:     ${result.context}`,
          `daemon:      ${daemon.peerName} (${daemon.peerId}), monkd ${daemon.version}, up since ${daemon.startedAt}`,
          `runtime:     ${daemon.runtime}${daemon.problems > 0 ? ` (${daemon.problems} problem(s): see monk info)` : ''}`,
          `cluster:     ${cluster === null ? `none (${clusterError ?? 'unknown'}${clusterError === 'CLUSTER_NOT_FOUND' ? '; monk cluster new makes one' : ''})` : `${cluster.clusterName} (${cluster.clusterId}), ${cluster.alive}/${cluster.peers} peers alive`}`,
          `templates:   ${result.templates} loaded, ${result.deployments} running`,
          `instances:   ${counts.total} (${counts.running} running, ${counts.ready} ready)`,
        ].join('\n'),
      );
    }
    return result;
  }
}
