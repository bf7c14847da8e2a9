import { join } from 'node:path';
import { toMonkError, type PeerRecord } from '@monk/model';
import {
  allowMeshForwarding,
  createWireguardInterface,
  removeMeshForwarding,
  describePeerSyncStep,
  findUnderlayMtu,
  wireguardInterfaceName,
  wireguardMtu,
  type CommandRunner,
  type MeshPeer,
  type WireguardInterface,
} from '@monk/network';
import type { Logger } from '../logger.ts';

/** The mesh peers of this one: every other peer whose record has a `wireguard` entry. */
export function meshPeersOf(records: readonly PeerRecord[], self: string): MeshPeer[] {
  return records
    .filter((p) => p.id !== self && p.role === 'peer' && p.wireguard !== undefined)
    .map((p) => ({
      publicKey: p.wireguard?.publicKey ?? '',
      endpoint: p.wireguard?.endpoint,
      subnet: p.wireguard?.subnet ?? '',
      overlayAddress: p.wireguard?.overlayAddress ?? '',
    }));
}

/**
 * This peer's WireGuard interface kept in step with the peer records (`monkd --mesh-tunnels`): up with
 * the overlay address of its own record, one WireGuard peer and routes per other peer record. A removed
 * peer's record goes, and with it its tunnel and routes; a dead peer's record stays, so does its tunnel.
 * When this peer's own record goes (it left or was removed), the interface goes too.
 */
export interface MeshLink {
  /** Brings the interface in line with the graph; calls are serialised, and a burst collapses into one pass. */
  update(): void;
  /** Resolves when the passes asked for so far are done. */
  settled(): Promise<void>;
}

export function createMeshLink(
  options: {
    peerId: string;
    dataDir: string;
    listenPort: number;
    /** When no interface holds this peer's endpoint address (default 1500). */
    underlayMtu?: number;
    /**
     * The bridge of this peer's containers: forwarding between it and the interface is allowed in an
     * iptables chain of monk's own (see `allowMeshForwarding`), removed with the interface.
     */
    bridge?: string;
  },
  components: { listPeers: () => readonly PeerRecord[]; runner: CommandRunner; logger: Logger },
): MeshLink {
  const { logger } = components;
  const name = wireguardInterfaceName(options.peerId);
  let wireguard: WireguardInterface | undefined;
  let overlay: string | undefined;
  let running: Promise<void> = Promise.resolve();
  let queued = false;
  let fresh = true;

  async function pass(): Promise<void> {
    const records = components.listPeers();
    const own = records.find((p) => p.id === options.peerId)?.wireguard;
    if (own === undefined) {
      // No mesh for us (left, removed, or not yet admitted): no interface, also none a crash left behind.
      if (fresh || wireguard !== undefined) {
        await (wireguard ?? link('0.0.0.0', 1500)).destroy();
        if (options.bridge !== undefined) await removeMeshForwarding(components);
      }
      wireguard = undefined;
      fresh = false;
      return;
    }
    fresh = false;
    if (wireguard !== undefined && own.overlayAddress !== overlay) {
      await wireguard.destroy();
      wireguard = undefined;
    }
    if (wireguard === undefined) {
      // Adopts an interface of the same name that a previous run left up: `up` only sets what differs.
      // The MTU fits the interface that holds our endpoint, so tunnelled packets never fragment.
      const host = own.endpoint?.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
      const underlay = host === undefined ? undefined : await findUnderlayMtu({ address: host }, components);
      const next = link(own.overlayAddress, underlay ?? options.underlayMtu ?? 1500);
      await next.up();
      wireguard = next;
      overlay = own.overlayAddress;
      logger.info(`mesh interface ${name} up`, { overlayAddress: own.overlayAddress, subnet: own.subnet });
    }
    const steps = await wireguard.syncPeers(meshPeersOf(records, options.peerId));
    for (const step of steps) logger.info(`mesh: ${describePeerSyncStep(step)}`);
    if (
      options.bridge !== undefined &&
      (await allowMeshForwarding({ wireguard: name, bridge: options.bridge }, components))
    ) {
      logger.info(`mesh: forwarding between ${name} and ${options.bridge} allowed`);
    }
  }

  function link(overlayAddress: string, underlayMtu: number): WireguardInterface {
    return createWireguardInterface(
      {
        name,
        privateKeyFile: join(options.dataDir, 'wireguard.key'),
        listenPort: options.listenPort,
        overlayAddress,
        mtu: wireguardMtu(underlayMtu),
      },
      { runner: components.runner },
    );
  }

  return {
    update() {
      if (queued) return;
      queued = true;
      running = running.then(async () => {
        queued = false;
        await pass().catch((error: unknown) => {
          logger.warn('mesh interface not in step with the peer records; retrying at the next change', {
            error: toMonkError(error).message,
          });
        });
      });
    },
    settled: () => running,
  };
}
