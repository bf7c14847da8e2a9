import { join } from 'node:path';
import type { PeerRecord, PeerWireguard } from '@monk/model';
import { createAddressPlan, loadOrCreateWireguardKey, type WireguardKey } from '@monk/network';

/** `monkd --mesh`: this peer takes part in the WireGuard mesh (its record carries its key and addresses). */
export interface MeshOptions {
  /** UDP port of this peer's WireGuard (`--mesh-port`, default 51820). */
  readonly listenPort: number;
  /** The underlay address other peers reach it at (`--mesh-endpoint`); default: its first non-loopback IPv4. */
  readonly endpointHost?: string | undefined;
  /**
   * `--mesh-tunnels`: also bring up this peer's WireGuard interface and keep its peers and routes in step
   * with the peer records (needs root, and the kernel module or wireguard-go).
   */
  readonly tunnels?: boolean | undefined;
}

/**
 * This peer's `wireguard` fields, from the peer records it has: the address plan of the cluster CIDR run
 * over every peer's claim (see `AddressPlan.allocate`), so two peers that joined at once and claimed the
 * same subnet both see who keeps it, and the other one moves. Undefined when the plan has no room left.
 */
export function meshRecordOf(input: {
  readonly self: string;
  readonly joinedAt: string;
  readonly peers: readonly PeerRecord[];
  readonly meshCidr: string | undefined;
  readonly publicKey: string;
  readonly endpoint: string | undefined;
}): PeerWireguard | undefined {
  const plan = createAddressPlan(input.meshCidr === undefined ? {} : { cidr: input.meshCidr });
  const own = input.peers.find((p) => p.id === input.self);
  const claims = input.peers
    .filter((p) => p.role === 'peer' && p.id !== input.self)
    .map((p) => ({ id: p.id, joinedAt: p.joinedAt, subnet: p.wireguard?.subnet }));
  claims.push({ id: input.self, joinedAt: own?.joinedAt ?? input.joinedAt, subnet: own?.wireguard?.subnet });
  const mine = plan.allocate(claims).get(input.self);
  if (mine === undefined) return undefined;
  return {
    publicKey: input.publicKey,
    ...(input.endpoint === undefined ? {} : { endpoint: input.endpoint }),
    overlayAddress: mine.overlayAddress,
    subnet: mine.subnet,
  };
}

/** The first IPv4 of a peer's libp2p addresses that others can reach (not loopback), else its loopback. */
export function underlayHostOf(addresses: readonly string[]): string | undefined {
  const hosts = addresses
    .map((a) => /^\/ip4\/(\d+\.\d+\.\d+\.\d+)\//.exec(a)?.[1])
    .filter((h): h is string => h !== undefined && h !== '0.0.0.0');
  return hosts.find((h) => !h.startsWith('127.')) ?? hosts[0];
}

/** The mesh key pair of this peer, created in its data dir (`wireguard.key`, 0600) on cluster create/join. */
export async function loadMeshKey(dataDir: string): Promise<WireguardKey> {
  return loadOrCreateWireguardKey({ file: join(dataDir, 'wireguard.key') });
}
