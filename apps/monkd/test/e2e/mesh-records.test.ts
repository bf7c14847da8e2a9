import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMonkClient, createUnixSocketTransport, type MonkClient, type PeerEntry } from '@monk/sdk';
import { eventually, startMonkd, type MonkdProcess } from '../harness.ts';

interface Peer {
  readonly monkd: MonkdProcess;
  readonly client: MonkClient;
}

async function startPeer(name: string, extraArgs: readonly string[] = ['--mesh']): Promise<Peer> {
  const monkd = await startMonkd({
    extraArgs: ['--name', name, '--p2p-host', '127.0.0.1', '--p2p-port', '0', ...extraArgs],
  });
  return {
    monkd,
    client: createMonkClient({ transport: createUnixSocketTransport({ path: monkd.socket }) }),
  };
}

const peersOf = (peer: Peer): Promise<PeerEntry[]> =>
  peer.client.call('cluster.peers', {}) as Promise<PeerEntry[]>;
const token = async (peer: Peer): Promise<string> =>
  ((await peer.client.call('cluster.joinToken', { ttlSeconds: 600, role: 'peer' })) as { token: string })
    .token;

describe('monkd --mesh: peer records carry each peer’s WireGuard key and subnet (needs Docker, loopback TCP)', () => {
  const peers: Peer[] = [];
  /** A fourth peer, for which the cluster's address plan has no room. */
  let fourth: Peer | undefined;

  beforeAll(async () => {
    for (const name of ['m1', 'm2', 'm3']) peers.push(await startPeer(name));
    fourth = await startPeer('m4');
  });
  afterAll(async () => {
    for (const peer of peers) await peer.monkd[Symbol.asyncDispose]();
    await fourth?.monkd[Symbol.asyncDispose]();
  });

  it('refuses a cluster CIDR the address plan cannot use', async () => {
    const [first] = peers as [Peer];
    const result = await first.monkd.monk(['cluster', 'new', '--mesh-cidr', '10.240.0.1/12']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('host bits set');
  });

  it('gives every peer its own subnet of the cluster CIDR, even two joining at once, and keeps private keys home', async () => {
    const [first, second, third] = peers as [Peer, Peer, Peer];
    // Room for exactly three /24s: the joiners' preferred subnets collide more often than not, and the
    // loser of each collision must move to the one left.
    const created = await first.monkd.monk([
      'cluster',
      'new',
      '--name',
      'lan',
      '--mesh-cidr',
      '10.77.0.0/22',
    ]);
    expect(created.code).toBe(0);
    const [t2, t3] = [await token(first), await token(first)];
    await Promise.all([
      second.client.call('cluster.join', { token: t2 }),
      third.client.call('cluster.join', { token: t3 }),
    ]);

    const settled = await eventually(
      async () => {
        const views = await Promise.all(peers.map(peersOf));
        const meshes = views.map((v) =>
          v
            .filter((p) => p.role === 'peer')
            .map((p) => `${p.id} ${p.mesh?.subnet ?? '-'} ${p.mesh?.overlayAddress ?? '-'}`)
            .sort()
            .join('\n'),
        );
        const subnets = new Set(views[0]?.map((p) => p.mesh?.subnet));
        return views[0]?.length === 3 &&
          subnets.size === 3 &&
          !subnets.has(undefined) &&
          new Set(meshes).size === 1
          ? views[0]
          : undefined;
      },
      { timeoutMs: 20_000, what: 'three peers agreeing on three distinct subnets' },
    );
    for (const entry of settled) {
      expect(entry.mesh?.subnet).toMatch(/^10\.77\.[1-3]\.0\/24$/);
      expect(entry.mesh?.overlayAddress).toMatch(/^10\.77\.0\.[1-3]$/);
      expect(entry.mesh?.endpoint).toBe('127.0.0.1:51820');
      expect(entry.mesh?.publicKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    }

    for (const peer of peers) {
      const keyFile = join(peer.monkd.dataDir, 'wireguard.key');
      expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
      const privateKey = (await readFile(keyFile, 'utf8')).trim();
      // Not in the log, not in any graph file, not in what other peers are told.
      expect(await peer.monkd.log()).not.toContain(privateKey);
      for (const file of await readdir(peer.monkd.dataDir, { recursive: true })) {
        if (file === 'wireguard.key' || file.endsWith('.sock')) continue;
        const body = await readFile(join(peer.monkd.dataDir, file)).catch(() => Buffer.alloc(0));
        expect(body.includes(privateKey), `${file} holds the private key`).toBe(false);
      }
      expect(JSON.stringify(settled)).not.toContain(privateKey);
    }
  });

  it('refuses a peer the address plan has no subnet for, at join time, naming the CIDR and its peers', async () => {
    const [first] = peers as [Peer];
    const joined = await fourth?.monkd.monk(['cluster', 'join', await token(first)]);
    expect(joined?.code).toBe(1);
    expect(joined?.stderr).toContain('MESH_ADDRESSES_EXHAUSTED');
    expect(joined?.stderr).toContain('the cluster CIDR 10.77.0.0/22 has room for 3 peers of /24 and holds 3');
    expect((await peersOf(first)).map((p) => p.name).sort()).toEqual(['m1', 'm2', 'm3']);
  });
});
