import { monkLabels, toMonkError, type PeerRecord } from '@monk/model';
import type { ContainerRuntime } from '@monk/runtime';
import {
  ipv4InCidr,
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

/**
 * Removes this peer's containers that sit on the mesh network at an address outside `network`'s subnet:
 * the address plan moved this peer to another subnet (a collision settled, see `meshRecordOf`). Docker
 * cannot move a container between subnets, and cannot remove the old network while containers use it;
 * once they are gone the reconciler makes the network again on the new subnet and creates them there.
 * Returns the names of the containers it removed.
 */
export async function leaveOldMeshSubnet(
  options: { readonly peerId: string; readonly network: WorkloadNetwork | undefined },
  components: {
    readonly runtime: Pick<ContainerRuntime, 'listContainers' | 'removeContainer'>;
    readonly logger: Pick<Logger, 'info'>;
  },
): Promise<string[]> {
  const subnet = options.network?.ipv4?.subnet;
  if (subnet === undefined) return [];
  const stale = (
    await components.runtime.listContainers({
      all: true,
      labels: { [monkLabels.managed]: 'true', [monkLabels.peer]: options.peerId },
    })
  ).filter((c) => {
    const address = c.ipAddresses[meshNetworkName];
    return address !== undefined && address !== '' && !ipv4InCidr(address, subnet);
  });
  for (const container of stale) {
    await components.runtime.removeContainer(container.id, { force: true });
    components.logger.info(
      `mesh subnet moved to ${subnet}: removed ${container.name} (${container.ipAddresses[meshNetworkName] ?? ''}) to create it there`,
    );
  }
  return stale.map((c) => c.name);
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
