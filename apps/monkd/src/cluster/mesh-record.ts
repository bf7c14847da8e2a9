import { join } from 'node:path';
import { monkLabels, toMonkError, type PeerRecord, type PeerWireguard } from '@monk/model';
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
  /**
   * On by default (no `--mesh` given) rather than asked for: then it stays off on an engine shared with
   * another monk peer (see {@link meshForEngine}).
   */
  readonly byDefault?: boolean | undefined;
}

/**
 * The mesh this monkd runs with. A mesh asked for (`--mesh`) runs as asked. A mesh on by default runs only
 * when this peer has the Docker engine to itself: an engine running containers of another monk peer is
 * shared (the test harness, several monkd on one machine), and two mesh peers on one engine would each
 * make the `monk-mesh` network on their own subnet, so the mesh stays off and the log says why.
 */
export async function meshForEngine(
  mesh: MeshOptions | undefined,
  components: {
    readonly peerId: string;
    /** The labels of the monk-managed containers on the engine (`monk.peer` names their peer). */
    readonly managedContainerLabels: () => Promise<ReadonlyArray<Readonly<Record<string, string>>>>;
    readonly logger: { info(message: string): void };
  },
): Promise<MeshOptions | undefined> {
  if (mesh?.byDefault !== true) return mesh;
  let labels: ReadonlyArray<Readonly<Record<string, string>>>;
  try {
    labels = await components.managedContainerLabels();
  } catch (error) {
    components.logger.info(
      `mesh off: the Docker engine does not answer, so whether another monk peer shares it is unknown (${toMonkError(error).message}); --mesh --mesh-tunnels to insist`,
    );
    return undefined;
  }
  const others = new Set(
    labels
      .map((container) => container[monkLabels.peer])
      .filter((peer): peer is string => peer !== undefined && peer !== components.peerId),
  );
  if (others.size === 0) return mesh;
  components.logger.info(
    `mesh off: the Docker engine runs containers of ${others.size} other monk peer(s); one mesh peer per engine (--mesh to insist, --no-mesh to silence)`,
  );
  return undefined;
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

/**
 * Refuses, at join time, a peer the cluster's address plan has no subnet left for (every peer record takes
 * a slot of the plan), before its join token is spent.
 *
 * @throws MonkError `MESH_ADDRESSES_EXHAUSTED` naming the cluster CIDR and how many peers it holds.
 */
export function assertMeshRoom(input: {
  readonly meshCidr: string | undefined;
  readonly peers: readonly PeerRecord[];
  readonly joiner: { readonly id: string; readonly name: string };
}): void {
  createAddressPlan(input.meshCidr === undefined ? {} : { cidr: input.meshCidr }).assertRoomFor(
    input.peers.filter((p) => p.role === 'peer').map((p) => p.id),
    input.joiner,
  );
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
