import { toMonkError, type PeerRecord } from '@monk/model';
import {
  startDnsServer,
  subnetGateway,
  type DnsLookup,
  type DnsServer,
  type DnsServerOptions,
} from '@monk/network';
import type { Logger } from '../logger.ts';
import type { WorkloadNetwork } from '../reconciler.ts';

/** The Docker network, and its bridge, that a mesh peer runs its containers on. */
export const meshNetworkName = 'monk-mesh';

/**
 * The network of a mesh peer's containers: a bridge on its own subnet from its peer record, gateway the
 * subnet's first address, where this peer's DNS server listens for its containers. Undefined while its
 * record has no subnet yet.
 */
export function meshNetworkOf(records: readonly PeerRecord[], self: string): WorkloadNetwork | undefined {
  const subnet = records.find((p) => p.id === self)?.wireguard?.subnet;
  if (subnet === undefined) return undefined;
  const gateway = subnetGateway(subnet);
  return {
    name: meshNetworkName,
    ipv4: { subnet, gateway },
    bridgeName: meshNetworkName,
    dns: [gateway],
  };
}

/** The cluster DNS server of a mesh peer, kept on its bridge's gateway (which moves when its subnet does). */
export interface MeshDns {
  /** Listens on this address (port 53), or nowhere when undefined; a failed start is retried at the next call. */
  update(host: string | undefined): void;
  /** Resolves when the updates asked for so far are applied. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export function createMeshDns(
  options: Pick<DnsServerOptions, 'port' | 'upstreams'>,
  components: {
    lookup: DnsLookup;
    logger: Logger;
    start?: (options: DnsServerOptions) => Promise<DnsServer>;
  },
): MeshDns {
  const start =
    components.start ??
    ((o: DnsServerOptions) => startDnsServer(o, { lookup: components.lookup, logger: components.logger }));
  let server: { host: string; running: DnsServer } | undefined;
  let wanted: string | undefined;
  let running: Promise<void> = Promise.resolve();

  async function apply(): Promise<void> {
    if (server?.host === wanted) return;
    if (server !== undefined) {
      await server.running.close();
      components.logger.info(`cluster DNS stopped on ${server.host}`);
      server = undefined;
    }
    const host = wanted;
    if (host === undefined) return;
    try {
      server = { host, running: await start({ ...options, host }) };
      components.logger.info(`cluster DNS listening on ${host}:${server.running.address().port}`);
    } catch (error) {
      components.logger.warn(`cluster DNS could not listen on ${host}; retrying`, {
        error: toMonkError(error).message,
      });
    }
  }

  return {
    update(host) {
      wanted = host;
      running = running.then(apply);
    },
    settled: () => running,
    async close() {
      wanted = undefined;
      running = running.then(apply);
      await running;
    },
  };
}
