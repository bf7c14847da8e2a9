/**
 * A host that a provider made for a cluster: a machine (or, for the local provider, a network namespace
 * with its own Docker engine) running its own monkd. Plain data: the growing monkd keeps these records in
 * its data dir and hands them back to the provider to remove a host.
 */
export interface HostRecord {
  /** The host's name, also the name of its monkd as a cluster peer. */
  readonly name: string;
  /** Which provider made it (`local`). */
  readonly provider: string;
  /** The host's underlay address: where its monkd listens for the cluster. */
  readonly address: string;
  /** The cluster listener port of its monkd. */
  readonly p2pPort: number;
  /** The control socket of the host's monkd, reachable from the machine that grew it. */
  readonly apiSocket: string;
  /** The socket of the host's own Docker engine. */
  readonly dockerSocket: string;
  /** Tags its peer gets (the requested ones plus `provider=<name>`). */
  readonly tags: readonly string[];
  readonly createdAt: string;
  /** Provider-specific facts it needs to remove the host (namespace, veth, directories). */
  readonly local?: LocalHostFacts;
}

/** What the local provider needs to find every trace of one host. */
export interface LocalHostFacts {
  /** The network namespace, `monk-h-<name>`. */
  readonly namespace: string;
  /** The bridge the host hangs on, in the root namespace. */
  readonly bridge: string;
  /** The root-namespace end of the host's veth pair. */
  readonly veth: string;
  /** The underlay subnet (CIDR) the host's address is in. */
  readonly subnet: string;
  /** The host's directory under the growing peer's data dir: engine data root, monkd data dir, logs. */
  readonly dir: string;
  /** The host's runtime directory (short paths for sockets): engine exec root, sockets, pid files. */
  readonly runDir: string;
}

/** What a host is doing now, as {@link CloudProvider.listHosts} sees it. */
export interface HostStatus {
  readonly host: HostRecord;
  /** True when the host's engine answers on its socket. */
  readonly engine: boolean;
  /** True when the host's monkd process is running. */
  readonly monkd: boolean;
}

/** A step of creating a host, for progress output (`monk cluster grow` prints one line per step). */
export interface HostProgress {
  readonly host: string;
  readonly step: string;
}

/** What to create: `count` hosts, named `name` (one host) or `name-1`… (several), or as the provider picks. */
export interface HostRequest {
  readonly count: number;
  readonly name?: string | undefined;
  /** Tags for the hosts' peers; the provider adds `provider=<name>`. */
  readonly tags: readonly string[];
  readonly onProgress?: (progress: HostProgress) => void;
}

/**
 * Where hosts come from: makes, lists and removes machines that run a monkd. Providers never join hosts to a
 * cluster: the growing monkd does that with a join token once `createHosts` returns them running.
 *
 * @example
 * const provider = createLocalProvider(options, { system: createHostSystem() });
 * const [host] = await provider.createHosts({ count: 1, tags: [] });
 * // … join host.apiSocket's monkd to the cluster …
 * await provider.removeHost(host);
 */
export interface CloudProvider {
  readonly name: string;
  /**
   * Creates the requested hosts and starts their monkd; resolves once each monkd answers on its control
   * socket. When any step fails, every host of this call is removed again and the call throws
   * `PROVIDER_ERROR` naming the host and the step. Throws `PERMISSION_DENIED` when the provider lacks the
   * privileges it needs, and `INVALID_REQUEST` for a bad or taken name, before making anything.
   */
  createHosts(request: HostRequest): Promise<HostRecord[]>;
  /** Stops the host's monkd and engine and removes every trace of it. Idempotent. */
  removeHost(host: HostRecord): Promise<void>;
  /** The state of the given hosts (the caller keeps the records). */
  listHosts(hosts: readonly HostRecord[]): Promise<HostStatus[]>;
}
