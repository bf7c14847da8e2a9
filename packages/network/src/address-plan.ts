import { createHash } from 'node:crypto';
import { MonkError } from '@monk/model';
import { formatCidr, formatIpv4, parseCidr } from './ipv4.ts';

/** The cluster CIDR a cluster gets when `monk cluster new` is given none: room for 4080 peers of /24. */
export const defaultClusterCidr = '10.240.0.0/12';
/** The prefix length of each peer's container subnet when none is given: 254 containers per peer. */
export const defaultSubnetPrefix = 24;

/** What a peer record says about its place in the address plan, as {@link AddressPlan.allocate} reads it. */
export interface SubnetClaim {
  /** The peer id. */
  readonly id: string;
  /** When the peer joined (ISO 8601, from its record): earlier claims win collisions. */
  readonly joinedAt?: string | undefined;
  /** The subnet the peer's record claims, if it has claimed one. */
  readonly subnet?: string | undefined;
}

/** Where one peer sits in the plan. */
export interface PeerAddresses {
  /** Index of the peer's subnet inside the cluster CIDR. */
  readonly slot: number;
  /** The peer's container subnet, e.g. `10.240.37.0/24`. */
  readonly subnet: string;
  /** The address of the peer's WireGuard interface, e.g. `10.240.0.37` (a /32, outside every subnet). */
  readonly overlayAddress: string;
}

/**
 * The address plan of a cluster: one cluster CIDR cut into equal container subnets, one per peer, plus one
 * overlay address per peer for its WireGuard interface.
 *
 * Layout: the first `slots` addresses of the cluster CIDR form the overlay range; slot `k`'s overlay
 * address is the cluster's first address plus `k`. The subnets that overlap the overlay range are never
 * given to a peer, so overlay addresses and container addresses never meet. With the defaults
 * (10.240.0.0/12, /24) the overlay range is 10.240.0.0/20 and peers get 10.240.16.0/24 … 10.255.255.0/24.
 *
 * Allocation works without a leader: every peer runs {@link AddressPlan.allocate} over the same peer
 * records and gets the same answer. See its documentation for the collision rule.
 */
export interface AddressPlan {
  readonly cidr: string;
  readonly subnetPrefix: number;
  /** The range the overlay addresses come from, e.g. `10.240.0.0/20`. */
  readonly overlayRange: string;
  /** The first slot a peer can get (the slots before it hold the overlay range). */
  readonly firstSlot: number;
  /** How many peers the plan has room for. */
  readonly capacity: number;
  /** The slot a peer asks for first: a hash of its id, spread over the allocatable slots. */
  preferredSlot(peerId: string): number;
  /** The addresses of a slot. Throws `INVALID_REQUEST` for a slot outside the allocatable ones. */
  addressesOf(slot: number): PeerAddresses;
  /** The slot of a subnet of this plan, or undefined when the subnet is not one of its allocatable subnets. */
  slotOf(subnet: string): number | undefined;
  /**
   * Gives every peer a slot, deterministically from the claims alone (order of the input does not matter).
   *
   * Collision rule: claims are ranked by `joinedAt` (earlier first; a missing one ranks last), then by peer
   * id (lower first). In rank order, each peer keeps the subnet it claims when that subnet is still free.
   * Then, in the same order, each peer left without a subnet (no claim, a claim outside the plan, or a
   * claim a higher-ranked peer kept) takes its preferred slot if free, else the next free slot upwards,
   * wrapping around. So an established peer is never moved by a newcomer, and when two peers join at once
   * and pick the same slot, every peer agrees on who keeps it; the other sees that its assignment differs
   * from its claim and rewrites its record.
   *
   * Peers beyond the plan's capacity are left out of the result.
   */
  allocate(claims: readonly SubnetClaim[]): ReadonlyMap<string, PeerAddresses>;
  /**
   * Checks, before a peer is admitted, that the plan has a subnet left for it: `peers` are the ids of the
   * peers the cluster holds now (each has, or will get, a subnet), `joiner` the one asking to join.
   *
   * @throws MonkError `MESH_ADDRESSES_EXHAUSTED` naming the cluster CIDR, how many peers it holds and what to
   *   do, when every subnet is taken.
   */
  assertRoomFor(peers: readonly string[], joiner: { readonly id: string; readonly name: string }): void;
}

/**
 * Builds the address plan of a cluster.
 *
 * @throws MonkError `INVALID_REQUEST` when `cidr` is not an IPv4 CIDR, or the subnet prefix is not longer than
 *   the cluster prefix or is longer than /30.
 * @example
 * const plan = createAddressPlan({ cidr: '10.240.0.0/12' });
 * const mine = plan.allocate(peers.map((p) => ({ id: p.id, joinedAt: p.joinedAt, subnet: p.wireguard?.subnet })));
 * mine.get(selfId); // { slot: 1234, subnet: '10.244.210.0/24', overlayAddress: '10.240.4.210' }
 */
export function createAddressPlan(options: { cidr?: string; subnetPrefix?: number } = {}): AddressPlan {
  const cidrText = options.cidr ?? defaultClusterCidr;
  const cluster = parseCidr(cidrText);
  const subnetPrefix = options.subnetPrefix ?? defaultSubnetPrefix;
  if (!Number.isInteger(subnetPrefix) || subnetPrefix <= cluster.prefix || subnetPrefix > 30) {
    throw new MonkError(
      'INVALID_REQUEST',
      `a peer subnet prefix must be longer than the cluster's /${cluster.prefix} and at most /30, not /${subnetPrefix}`,
    );
  }
  const slotSize = 2 ** (32 - subnetPrefix);
  const slots = 2 ** (subnetPrefix - cluster.prefix);
  const firstSlot = Math.ceil(slots / slotSize);
  const capacity = slots - firstSlot;
  const overlayPrefix = 32 - Math.log2(Math.max(slots, 1));

  function addressesOf(slot: number): PeerAddresses {
    if (!Number.isInteger(slot) || slot < firstSlot || slot >= slots) {
      throw new MonkError('INVALID_REQUEST', `slot ${slot} is outside ${firstSlot}…${slots - 1}`);
    }
    return {
      slot,
      subnet: formatCidr({ base: cluster.base + slot * slotSize, prefix: subnetPrefix }),
      overlayAddress: formatIpv4(cluster.base + slot),
    };
  }

  function slotOf(subnet: string): number | undefined {
    let parsed;
    try {
      parsed = parseCidr(subnet);
    } catch {
      return undefined;
    }
    if (parsed.prefix !== subnetPrefix) return undefined;
    const slot = (parsed.base - cluster.base) / slotSize;
    return Number.isInteger(slot) && slot >= firstSlot && slot < slots ? slot : undefined;
  }

  function preferredSlot(peerId: string): number {
    const digest = createHash('sha256').update(peerId).digest();
    return firstSlot + (digest.readUIntBE(0, 6) % capacity);
  }

  function allocate(claims: readonly SubnetClaim[]): ReadonlyMap<string, PeerAddresses> {
    const ranked = [...new Map(claims.map((c) => [c.id, c])).values()].sort(byRank);
    const taken = new Set<number>();
    const result = new Map<string, PeerAddresses>();
    for (const claim of ranked) {
      const slot = claim.subnet === undefined ? undefined : slotOf(claim.subnet);
      if (slot === undefined || taken.has(slot)) continue;
      taken.add(slot);
      result.set(claim.id, addressesOf(slot));
    }
    for (const claim of ranked) {
      if (result.has(claim.id)) continue;
      if (taken.size >= capacity) break;
      let slot = preferredSlot(claim.id);
      while (taken.has(slot)) slot = slot + 1 >= slots ? firstSlot : slot + 1;
      taken.add(slot);
      result.set(claim.id, addressesOf(slot));
    }
    return result;
  }

  function assertRoomFor(peers: readonly string[], joiner: { id: string; name: string }): void {
    const holding = new Set(peers);
    if (holding.has(joiner.id) || holding.size < capacity) return;
    const cidr = formatCidr(cluster);
    throw new MonkError(
      'MESH_ADDRESSES_EXHAUSTED',
      `no mesh subnet left for ${joiner.name}: the cluster CIDR ${cidr} has room for ${capacity} peers of /${subnetPrefix} and holds ${holding.size}; remove a peer (monk cluster peer-remove) or make the cluster with a larger --mesh-cidr`,
      { details: { cidr, subnetPrefix, capacity, peers: holding.size, joiner: joiner.name } },
    );
  }

  return {
    cidr: formatCidr(cluster),
    subnetPrefix,
    overlayRange: formatCidr({ base: cluster.base, prefix: overlayPrefix }),
    firstSlot,
    capacity,
    preferredSlot,
    addressesOf,
    slotOf,
    allocate,
    assertRoomFor,
  };
}

function byRank(a: SubnetClaim, b: SubnetClaim): number {
  const aTime = a.joinedAt ?? '\uffff';
  const bTime = b.joinedAt ?? '\uffff';
  if (aTime !== bTime) return aTime < bTime ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
