import { join } from 'node:path';
import { z } from 'zod';
import { MonkError, toMonkError } from '@monk/model';
import type { Graph } from '@monk/graph';
import type { CloudProvider, HostRecord, LocalProvider } from '@monk/providers';
import type { GrownHost, ParsedParams } from '@monk/sdk';
import { readDataJson, writeDataFile } from '../data-file.ts';
import type { CallChannel, HandlerGroup } from '../handlers.ts';
import type { Logger } from '../logger.ts';
import type { Cluster } from './cluster.ts';

/** A host this peer grew, and the peer id its monkd has in the cluster once joined. */
type OwnedHost = HostRecord & { readonly peerId?: string | undefined };

const recordSchema = z.object({
  v: z.literal(1),
  hosts: z.array(
    z.object({
      name: z.string(),
      provider: z.string(),
      address: z.string(),
      p2pPort: z.number(),
      apiSocket: z.string(),
      dockerSocket: z.string(),
      tags: z.array(z.string()),
      createdAt: z.string(),
      peerId: z.string().optional(),
      local: z
        .object({
          namespace: z.string(),
          bridge: z.string(),
          veth: z.string(),
          subnet: z.string(),
          dir: z.string(),
          runDir: z.string(),
        })
        .optional(),
    }),
  ),
});

/** What the local-hosts part of monkd needs from the rest of it. */
export interface LocalHostsComponents {
  readonly cluster: Pick<Cluster, 'isMember' | 'issueToken' | 'setTags' | 'remove' | 'shrink' | 'destroy'>;
  readonly graph: Pick<Graph, 'onChange' | 'getPeer'>;
  /** The local provider for an underlay subnet (undefined: the default one). */
  readonly provider: (subnet: string | undefined) => LocalProvider;
  /** Calls a control method on another monkd's unix socket (the new host's). */
  readonly callHost: (socket: string, method: 'cluster.join' | 'info', params: object) => Promise<unknown>;
  readonly logger: Logger;
}

export interface LocalHostsOptions {
  readonly dataDir: string;
  /** Where this peer's cluster listener binds: the hosts must reach it through the bridge. */
  readonly listenHost: string;
}

/**
 * The hosts this peer grew with `monk cluster grow`: creates them with a provider, joins them with fresh
 * peer tokens, records them (sealed, in `local-hosts.json`) so that they are adopted again after a restart,
 * and tears a host down once its peer leaves the graph (peer-remove from any peer, shrink, destroy).
 */
export interface LocalHosts {
  /** Adopts the recorded hosts and starts following the graph. */
  start(): Promise<void>;
  stop(): void;
  /** `cluster.grow`, and `cluster.peerRemove`/`shrink`/`destroy` that wait until the hosts they remove are gone. */
  handlers(): HandlerGroup;
  /** The recorded hosts. */
  hosts(): readonly OwnedHost[];
}

export function createLocalHosts(options: LocalHostsOptions, components: LocalHostsComponents): LocalHosts {
  const { cluster, graph, logger } = components;
  const recordPath = join(options.dataDir, 'local-hosts.json');
  let owned: OwnedHost[] = [];
  const teardowns = new Map<string, Promise<void>>();
  let unsubscribe: (() => void) | undefined;
  // Record writes are serialised: a teardown finishing during a grow must not lose the grow's hosts.
  let saving = Promise.resolve();
  // Grows are serialised too: two at once would pick the same free names and addresses.
  let growing: Promise<unknown> = Promise.resolve();

  function save(): Promise<void> {
    const snapshot = JSON.stringify({ v: 1, hosts: owned }, null, 2);
    saving = saving.then(
      async () => {
        await writeDataFile(recordPath, snapshot);
      },
      async () => {
        await writeDataFile(recordPath, snapshot);
      },
    );
    return saving;
  }

  function providerOf(host: HostRecord): CloudProvider {
    if (host.provider !== 'local' || host.local === undefined) {
      throw new MonkError(
        'INVALID_REQUEST',
        `${host.name} was made by provider ${host.provider}, which this monkd lacks`,
      );
    }
    return components.provider(host.local.subnet);
  }

  /** Removes a host from the machine (once), then from the record. */
  function teardown(host: OwnedHost): Promise<void> {
    const running = teardowns.get(host.name);
    if (running !== undefined) return running;
    logger.info(`removing local host ${host.name}`, { peer: host.peerId });
    const work = (async () => {
      await providerOf(host).removeHost(host);
      owned = owned.filter((h) => h.name !== host.name);
      await save();
      logger.info(`removed local host ${host.name}`);
    })().finally(() => teardowns.delete(host.name));
    teardowns.set(host.name, work);
    return work;
  }

  /** Tears down every recorded host whose peer the graph no longer has; resolves when they are gone. */
  async function reapDeparted(): Promise<void> {
    const departed = owned.filter((h) => h.peerId !== undefined && graph.getPeer(h.peerId) === undefined);
    for (const host of departed) void teardown(host).catch(() => undefined);
    // Also those the graph watcher started, which may already be off the record but not yet gone.
    await Promise.all([...teardowns.values()]);
  }

  async function grow(
    params: ParsedParams<'cluster.grow'>,
    channel: CallChannel,
  ): Promise<{ hosts: GrownHost[] }> {
    if (!cluster.isMember()) {
      throw new MonkError(
        'CLUSTER_NOT_FOUND',
        'this peer is in no cluster; create one with monk cluster new, then grow it',
      );
    }
    const provider = components.provider(params.subnet);
    if (options.listenHost !== '0.0.0.0' && options.listenHost !== provider.gateway) {
      throw new MonkError(
        'INVALID_REQUEST',
        `local hosts reach this peer through the bridge at ${provider.gateway}, but its cluster listener is bound to ${options.listenHost}; restart monkd with --p2p-host 0.0.0.0 (the default) or --p2p-host ${provider.gateway}`,
      );
    }
    const emit = (host: string, step: string): void => {
      channel.emit({ type: 'grow', host, step }).catch(() => undefined);
    };
    const created = await provider.createHosts({
      count: params.count,
      name: params.name,
      tags: params.tags,
      onProgress: (progress) => emit(progress.host, progress.step),
    });
    owned = [...owned, ...created];
    await save();
    const grown: GrownHost[] = [];
    let step = '';
    let current = '';
    try {
      for (const host of created) {
        current = host.name;
        step = 'mint a peer join token';
        emit(host.name, step);
        const { token } = await cluster.issueToken({ ttlSeconds: 600, role: 'peer' });
        step = 'join the cluster';
        emit(host.name, step);
        await components.callHost(host.apiSocket, 'cluster.join', { token });
        const { peerId } = (await components.callHost(host.apiSocket, 'info', {})) as { peerId: string };
        owned = owned.map((h) => (h.name === host.name ? { ...h, peerId } : h));
        await save();
        step = `tag the peer ${host.tags.join(',')}`;
        await cluster.setTags(peerId, host.tags);
        grown.push({
          name: host.name,
          peerId,
          provider: host.provider,
          address: host.address,
          tags: host.tags,
        });
        logger.info(`grew the cluster with local host ${host.name}`, { peer: peerId, address: host.address });
      }
    } catch (error) {
      const cause = toMonkError(error);
      const mine = owned.filter((h) => created.some((c) => c.name === h.name));
      for (const host of mine) {
        if (host.peerId !== undefined) await cluster.remove(host.peerId).catch(() => undefined);
        await teardown(host).catch((problem: unknown) => {
          logger.warn(`could not remove local host ${host.name}`, { error: toMonkError(problem).message });
        });
      }
      throw new MonkError(
        'PROVIDER_ERROR',
        `growing the cluster failed for host ${current} at step "${step}": ${cause.message}; removed the ${String(created.length)} host(s) this grow had made`,
        { cause, details: { host: current, step } },
      );
    }
    return { hosts: grown };
  }

  return {
    async start() {
      const stored = recordSchema.parse((await readDataJson(recordPath)) ?? { v: 1, hosts: [] }) as {
        v: 1;
        hosts: OwnedHost[];
      };
      owned = stored.hosts;
      for (const host of owned) {
        if (host.local === undefined) continue;
        const provider = components.provider(host.local.subnet);
        await provider.adoptHosts([host]);
        // A host whose engine or monkd died (or whose namespace a reboot took) comes back with its data.
        const outcome = await provider.reviveHost(host).catch((error: unknown) => {
          logger.warn(
            `local host ${host.name} is down and could not be brought back: ${toMonkError(error).message}; remove it with monk cluster peer-remove ${host.name}`,
          );
          return 'failed';
        });
        if (outcome === 'revived') logger.info(`brought local host ${host.name} back`);
      }
      if (owned.length > 0)
        logger.info(`adopted ${String(owned.length)} local host(s)`, { hosts: owned.map((h) => h.name) });
      unsubscribe = graph.onChange((changes) => {
        const removed = changes.filter(
          (c) =>
            c.kind === 'peer' && owned.some((h) => h.peerId === c.key) && graph.getPeer(c.key) === undefined,
        );
        if (removed.length === 0) return;
        reapDeparted().catch((error: unknown) => {
          logger.warn('could not remove a departed local host', { error: toMonkError(error).message });
        });
      });
    },
    stop() {
      unsubscribe?.();
    },
    hosts: () => owned,
    handlers() {
      return {
        'cluster.grow': (params, channel) => {
          const next = growing.then(() => grow(params, channel));
          growing = next.catch(() => undefined);
          return next;
        },
        'cluster.peerRemove': async (params) => {
          await cluster.remove(params.id);
          await reapDeparted();
          return { removed: params.id };
        },
        'cluster.shrink': async () => {
          const removed = await cluster.shrink();
          await reapDeparted();
          return { removed };
        },
        'cluster.destroy': async () => {
          const removed = await cluster.destroy();
          await reapDeparted();
          return { removed };
        },
      };
    },
  };
}
