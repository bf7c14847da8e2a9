import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MonkError, type JsonObject } from '@monk/model';
import type { GraphChange } from '@monk/graph';
import type { HostRecord, LocalProvider } from '@monk/providers';
import type { CallChannel } from '../handlers.ts';
import { createLogger } from '../logger.ts';
import { createLocalHosts, type LocalHostsComponents } from './local-hosts.ts';

function hostRecord(name: string, index: number): HostRecord {
  return {
    name,
    provider: 'local',
    address: `10.213.0.${String(index + 2)}`,
    p2pPort: 44001,
    apiSocket: `/run/monk-h/${name}/monkd.sock`,
    dockerSocket: `/run/monk-h/${name}/docker.sock`,
    tags: ['provider=local'],
    createdAt: '2026-01-01T00:00:00.000Z',
    local: {
      namespace: `monk-h-${name}`,
      bridge: 'monk-local',
      veth: `mh${String(index)}`,
      subnet: '10.213.0.0/24',
      dir: `/data/local-hosts/${name}`,
      runDir: `/run/monk-h/${name}`,
    },
  };
}

/** A cluster of peer records, a provider that makes records, and hosts whose join may fail. */
function world(options: { failJoinOf?: string } = {}) {
  const peers = new Set<string>(['self']);
  const listeners = new Set<(changes: readonly GraphChange[]) => void>();
  const removedHosts: string[] = [];
  const events: JsonObject[] = [];
  const removePeer = (id: string): void => {
    peers.delete(id);
    for (const listener of listeners) listener([{ kind: 'peer', key: id, origin: 'local' }]);
  };
  const provider: LocalProvider = {
    name: 'local',
    gateway: '10.213.0.1',
    createHosts: async ({ count, name }) =>
      Array.from({ length: count }, (_, i) => hostRecord(`${name ?? 'local'}-${String(i + 1)}`, i)),
    removeHost: async (host) => void removedHosts.push(host.name),
    listHosts: async (hosts) => hosts.map((host) => ({ host, engine: true, monkd: true })),
    adoptHosts: async () => undefined,
    reviveHost: async () => 'running',
  };
  const components: LocalHostsComponents = {
    cluster: {
      isMember: () => true,
      issueToken: async () => ({ token: 'monk1.token', role: 'peer', expiresAt: '' }),
      setTags: async (id) => ({
        id,
        name: id,
        role: 'peer',
        tags: [],
        addresses: [],
        state: 'alive',
        containers: 0,
        startedAt: '',
        self: false,
      }),
      remove: async (id) => removePeer(id),
      shrink: async () => [],
      destroy: async () => {
        for (const id of [...peers]) removePeer(id);
        return [];
      },
    },
    graph: {
      onChange: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      getPeer: (id) =>
        peers.has(id)
          ? { id, name: id, role: 'peer', tags: [], addresses: [], joinedAt: '2026-01-01T00:00:00.000Z' }
          : undefined,
    },
    provider: () => provider,
    callHost: async (socket, method) => {
      const name = socket.split('/')[3] ?? '';
      if (method === 'cluster.join') {
        if (name === options.failJoinOf) throw new MonkError('PEER_UNREACHABLE', 'no peer answered');
        peers.add(`peer-${name}`);
        return {};
      }
      return { peerId: `peer-${name}` };
    },
    logger: createLogger({ level: 'error' }),
  };
  const channel: CallChannel = {
    emit: async (event) => void events.push(event),
    clientFrames: (async function* () {})(),
    signal: new AbortController().signal,
  };
  return { components, channel, peers, removedHosts, events };
}

describe('local hosts in monkd', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'monk-local-hosts-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const grow = { provider: 'local' as const, count: 2, name: 'h', tags: [] };

  it('joins every new host with a token and records it', async () => {
    const { components, channel, peers, events } = world();
    const hosts = createLocalHosts({ dataDir, listenHost: '0.0.0.0' }, components);
    await hosts.start();
    const result = await hosts.handlers()['cluster.grow']?.(grow, channel);
    expect(result).toMatchObject({
      hosts: [
        { name: 'h-1', peerId: 'peer-h-1' },
        { name: 'h-2', peerId: 'peer-h-2' },
      ],
    });
    expect([...peers].sort()).toEqual(['peer-h-1', 'peer-h-2', 'self']);
    expect(events).toContainEqual({ type: 'grow', host: 'h-2', step: 'join the cluster' });

    const again = createLocalHosts({ dataDir, listenHost: '0.0.0.0' }, components);
    await again.start();
    expect(again.hosts().map((h) => [h.name, h.peerId])).toEqual([
      ['h-1', 'peer-h-1'],
      ['h-2', 'peer-h-2'],
    ]);
  });

  it('removes every host of a grow whose join fails, naming the host and the step', async () => {
    const { components, channel, peers, removedHosts } = world({ failJoinOf: 'h-2' });
    const hosts = createLocalHosts({ dataDir, listenHost: '0.0.0.0' }, components);
    await hosts.start();
    const failure = hosts.handlers()['cluster.grow']?.(grow, channel);
    await expect(failure).rejects.toMatchObject({
      code: 'PROVIDER_ERROR',
      details: { host: 'h-2', step: 'join the cluster' },
    });
    await expect(failure).rejects.toThrow(/removed the 2 host\(s\) this grow had made/);
    expect(removedHosts.sort()).toEqual(['h-1', 'h-2']);
    expect([...peers]).toEqual(['self']);
    expect(hosts.hosts()).toEqual([]);
  });

  it('refuses to grow when the hosts could not reach this peer through the bridge', async () => {
    const { components, channel } = world();
    const hosts = createLocalHosts({ dataDir, listenHost: '127.0.0.1' }, components);
    await hosts.start();
    await expect(hosts.handlers()['cluster.grow']?.(grow, channel)).rejects.toThrow(
      /restart monkd with --p2p-host 0.0.0.0 \(the default\) or --p2p-host 10.213.0.1/,
    );
  });

  it('removes a host once its peer leaves the graph, and peer-remove returns after it is gone', async () => {
    const { components, channel, removedHosts } = world();
    const hosts = createLocalHosts({ dataDir, listenHost: '0.0.0.0' }, components);
    await hosts.start();
    await hosts.handlers()['cluster.grow']?.(grow, channel);
    await hosts.handlers()['cluster.peerRemove']?.({ id: 'peer-h-1' }, channel);
    expect(removedHosts).toEqual(['h-1']);
    expect(hosts.hosts().map((h) => h.name)).toEqual(['h-2']);
    await hosts.handlers()['cluster.destroy']?.({}, channel);
    expect(removedHosts).toEqual(['h-1', 'h-2']);
    expect(hosts.hosts()).toEqual([]);
  });
});
