/** A peer of the mesh as this peer should see it: who it is, where it is, what it carries. */
export interface MeshPeer {
  /** Its WireGuard public key (base64). */
  readonly publicKey: string;
  /** Where its WireGuard listens on the underlay, `IP:port` (`[IPv6]:port`); unknown → wait for it to call. */
  readonly endpoint?: string | undefined;
  /** Its container subnet, e.g. `10.240.37.0/24`. */
  readonly subnet: string;
  /** The address of its WireGuard interface, e.g. `10.240.0.37`. */
  readonly overlayAddress: string;
  /** Seconds between keepalives through NATs and stateful firewalls; 0 for none (default 25). */
  readonly keepaliveSeconds?: number | undefined;
}

/** A peer as the interface has it now. */
export interface InstalledPeer {
  readonly publicKey: string;
  readonly endpoint: string | undefined;
  readonly allowedIps: readonly string[];
  readonly keepaliveSeconds: number;
}

/** One change to an interface; steps are data, so a dry run can print them. */
export type PeerSyncStep =
  | { readonly kind: 'remove-peer'; readonly publicKey: string }
  | { readonly kind: 'delete-route'; readonly destination: string }
  | {
      readonly kind: 'set-peer';
      readonly publicKey: string;
      readonly endpoint: string | undefined;
      readonly allowedIps: readonly string[];
      readonly keepaliveSeconds: number;
    }
  | { readonly kind: 'add-route'; readonly destination: string };

export const defaultKeepaliveSeconds = 25;

/** The allowed IPs of a mesh peer: its subnet and its overlay address. */
export function allowedIpsOf(peer: MeshPeer): string[] {
  return [peer.subnet, hostRoute(peer.overlayAddress)];
}

function hostRoute(address: string): string {
  return address.includes('/') ? address : `${address}/32`;
}

/**
 * What turns the installed peers and routes into the desired ones: removals first (so a subnet that moved
 * to another peer is free), then peers to add or update, then routes to add. Only differences become
 * steps: running the plan of an interface already in the desired state gives no steps.
 *
 * @example
 * planPeerSync({ peers: [], routes: [] }, [{ publicKey: 'K…=', endpoint: '10.0.0.2:51820', subnet: '10.240.17.0/24', overlayAddress: '10.240.0.17' }]);
 * // [{ kind: 'set-peer', … }, { kind: 'add-route', destination: '10.240.0.17/32' }, { kind: 'add-route', destination: '10.240.17.0/24' }]
 */
export function planPeerSync(
  installed: { readonly peers: readonly InstalledPeer[]; readonly routes: readonly string[] },
  desired: readonly MeshPeer[],
): PeerSyncStep[] {
  const wanted = new Map(desired.map((p) => [p.publicKey, p]));
  const steps: PeerSyncStep[] = [];
  for (const peer of installed.peers) {
    if (!wanted.has(peer.publicKey)) steps.push({ kind: 'remove-peer', publicKey: peer.publicKey });
  }
  const wantedRoutes = new Set(desired.flatMap(allowedIpsOf));
  const haveRoutes = new Set(installed.routes.map(hostRoute));
  for (const route of [...haveRoutes].sort()) {
    if (!wantedRoutes.has(route)) steps.push({ kind: 'delete-route', destination: route });
  }
  const have = new Map(installed.peers.map((p) => [p.publicKey, p]));
  for (const peer of [...wanted.values()].sort((a, b) => (a.publicKey < b.publicKey ? -1 : 1))) {
    const allowedIps = allowedIpsOf(peer);
    const keepaliveSeconds = peer.keepaliveSeconds ?? defaultKeepaliveSeconds;
    const current = have.get(peer.publicKey);
    const same =
      current !== undefined &&
      (peer.endpoint === undefined || current.endpoint === peer.endpoint) &&
      current.keepaliveSeconds === keepaliveSeconds &&
      sameSet(current.allowedIps.map(hostRoute), allowedIps);
    if (!same) {
      steps.push({
        kind: 'set-peer',
        publicKey: peer.publicKey,
        endpoint: peer.endpoint,
        allowedIps,
        keepaliveSeconds,
      });
    }
  }
  for (const route of [...wantedRoutes].sort()) {
    if (!haveRoutes.has(route)) steps.push({ kind: 'add-route', destination: route });
  }
  return steps;
}

/** One line per step, for logs and dry runs. Never holds a secret (public keys only). */
export function describePeerSyncStep(step: PeerSyncStep): string {
  switch (step.kind) {
    case 'remove-peer':
      return `remove peer ${step.publicKey}`;
    case 'delete-route':
      return `delete route ${step.destination}`;
    case 'set-peer':
      return `set peer ${step.publicKey} endpoint ${step.endpoint ?? '(none)'} allowed-ips ${step.allowedIps.join(',')} keepalive ${step.keepaliveSeconds}s`;
    case 'add-route':
      return `add route ${step.destination}`;
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  return left.size === new Set(b).size && b.every((x) => left.has(x));
}
