import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonkError } from '@monk/model';
import {
  createMonkClient,
  createUnixSocketTransport,
  type ClusterInfo,
  type MonkClient,
  type PeerEntry,
  type PsEntry,
} from '@monk/sdk';
import { eventually, repoRoot, startMonkd, type MonkdProcess } from '../harness.ts';

interface Peer {
  readonly name: string;
  readonly monkd: MonkdProcess;
  readonly client: MonkClient;
}

async function startPeer(name: string, dataDir?: string): Promise<Peer> {
  const monkd = await startMonkd({
    extraArgs: ['--name', name, '--p2p-host', '127.0.0.1', '--p2p-port', '0'],
    ...(dataDir === undefined ? {} : { dataDir }),
  });
  return {
    name,
    monkd,
    client: createMonkClient({ transport: createUnixSocketTransport({ path: monkd.socket }) }),
  };
}

const peersOf = (peer: Peer): Promise<PeerEntry[]> =>
  peer.client.call('cluster.peers', {}) as Promise<PeerEntry[]>;
const infoOf = (peer: Peer): Promise<ClusterInfo> =>
  peer.client.call('cluster.info', {}) as Promise<ClusterInfo>;
const tokenFrom = async (
  peer: Peer,
  options: { ttlSeconds?: number; role?: 'peer' | 'operator' } = {},
): Promise<string> =>
  (
    (await peer.client.call('cluster.joinToken', {
      ttlSeconds: options.ttlSeconds ?? 600,
      role: options.role ?? 'peer',
    })) as { token: string }
  ).token;
const codeOf = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
    return 'no error';
  } catch (error) {
    return error instanceof MonkError ? error.code : String(error);
  }
};
const stateOf = async (observer: Peer, subjectId: string): Promise<string | undefined> =>
  (await peersOf(observer)).find((p) => p.id === subjectId)?.state;

describe('a cluster of five monkd on loopback, formed with join tokens (needs Docker, loopback TCP)', () => {
  const peers: Peer[] = [];
  const others: Peer[] = [];
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'monk-cluster-e2e-'));
    for (const name of ['p1', 'p2', 'p3', 'p4', 'p5']) peers.push(await startPeer(name));
  });
  afterAll(async () => {
    for (const peer of [...peers, ...others]) await peer.monkd[Symbol.asyncDispose]();
    await rm(scratch, { recursive: true, force: true });
  });

  it('forms one cluster: every peer sees all five alive', async () => {
    const [first, ...rest] = peers as [Peer, ...Peer[]];
    const created = await first.client.call('cluster.new', { name: 'alpha' });
    expect(created).toMatchObject({ clusterName: 'alpha', peers: 1 });
    // Any member can issue a token: each newcomer joins through the peer that joined before it.
    let issuer = first;
    for (const peer of rest) {
      const joined = (await peer.client.call('cluster.join', {
        token: await tokenFrom(issuer),
      })) as ClusterInfo;
      expect(joined.clusterName).toBe('alpha');
      issuer = peer;
    }
    for (const peer of peers) {
      await eventually(
        async () => {
          const list = await peersOf(peer);
          return list.length === 5 && list.every((p) => p.state === 'alive') ? list : undefined;
        },
        { what: `${peer.name} to see five live peers`, timeoutMs: 30_000 },
      );
    }
  });

  it('a change made on one peer is seen on all, and instances run where they were accepted', async () => {
    const [, , third, fourth] = peers as [Peer, Peer, Peer, Peer, Peer];
    const load = await third.monkd.monk(['load', join(repoRoot, 'examples/app.yaml')]);
    expect(load.code, load.stderr).toBe(0);
    for (const peer of peers) {
      await eventually(
        async () =>
          (await peer.client.listTemplates()).some((t) => t.path === 'examples/web') ? true : undefined,
        { what: `${peer.name} to see the templates loaded on p3` },
      );
    }
    const run = await fourth.monkd.monk(['run', 'examples/web']);
    expect(run.code, run.stderr).toBe(0);
    const owner = await fourth.monkd.peerId();
    for (const peer of peers) {
      const row = await eventually(
        async () =>
          (await peer.client.ps({})).find((r: PsEntry) => r.workloadId === 'examples/web#web' && r.ready),
        { what: `${peer.name} to see examples/web ready` },
      );
      expect(row.peer).toBe(owner);
    }
    // exec through another peer is relayed to the owner over libp2p.
    const exec = await peers[0]!.monkd.monk(['exec', 'examples/web', '--', 'cat', '/www/index.html']);
    expect(exec.stdout.trim()).toBe('hello from monk');
  });

  it('a secret added on one peer is readable by a runnable started on another (the key travels at join)', async () => {
    const [first, second] = peers as [Peer, Peer];
    await first.client.call('secrets.add', { name: 'shared-token', value: 'sesame-42' });
    const file = join(scratch, 'secret-reader.yaml');
    await writeFile(
      file,
      [
        'namespace: sec',
        'reader:',
        '  defines: runnable',
        '  permitted-secrets:',
        '    shared-token: true',
        '  variables:',
        '    token:',
        '      type: string',
        '      env: TOKEN',
        '      value: <- secret("shared-token")',
        '  containers:',
        '    c:',
        '      image: monk-local/busybox',
        '      image-tag: latest',
        '      bash: exec sleep 3600',
        '',
      ].join('\n'),
    );
    expect((await second.monkd.monk(['load', file])).code).toBe(0);
    const run = await second.monkd.monk(['run', 'sec/reader']);
    expect(run.code, run.stderr).toBe(0);
    const env = await second.monkd.monk(['exec', 'sec/reader', '--', 'sh', '-c', 'echo $TOKEN']);
    expect(env.stdout.trim()).toBe('sesame-42');
    expect((await second.monkd.monk(['purge', 'sec/reader'])).code).toBe(0);
  });

  it('marks a killed peer dead on every other; restarted, it rejoins with its state and catches up', async () => {
    const victim = peers[4]!;
    const victimId = await victim.monkd.peerId();
    const owned = join(scratch, 'victim.yaml');
    await writeFile(
      owned,
      [
        'namespace: victim',
        'sleeper:',
        '  defines: runnable',
        '  containers:',
        '    c:',
        '      image: monk-local/busybox',
        '      bash: exec sleep 3600',
        // Its data on the victim's disk pins it there: repair leaves it for its peer to come back.
        '      paths:',
        `        - ${join(scratch, 'victim-data')}:/data`,
        '',
      ].join('\n'),
    );
    expect((await victim.monkd.monk(['load', owned])).code).toBe(0);
    const started = await victim.monkd.monk(['run', 'victim/sleeper']);
    expect(started.code, started.stderr).toBe(0);
    await eventually(
      async () =>
        (await peers[0]!.client.ps({})).some((r) => r.workloadId === 'victim/sleeper#c' && r.ready)
          ? true
          : undefined,
      { what: "p1 to see the victim's instance ready" },
    );
    await victim.monkd.kill('SIGKILL');
    const killedAt = Date.now();
    for (const peer of peers.slice(0, 4)) {
      await eventually(async () => ((await stateOf(peer, victimId)) === 'dead' ? true : undefined), {
        what: `${peer.name} to mark ${victim.name} dead`,
        timeoutMs: 30_000,
      });
    }
    console.log(
      `all four survivors marked the killed peer dead ${Date.now() - killedAt} ms after kill -9 (poll granularity 250 ms)`,
    );
    // The survivors no longer vouch for the dead peer's instance, in the table or in --json.
    const row = (await peers[1]!.client.ps({})).find((r) => r.workloadId === 'victim/sleeper#c');
    expect(row).toMatchObject({ phase: 'ready', state: 'unknown', reason: 'peer dead', ready: false });
    const table = await peers[1]!.monkd.monk(['ps']);
    expect(table.stdout).toMatch(/victim\/sleeper .*unknown: peer dead/);

    const file = join(scratch, 'while-away.yaml');
    await writeFile(
      file,
      [
        'namespace: away',
        'thing:',
        '  defines: runnable',
        '  containers:',
        '    c:',
        '      image: monk-local/busybox',
        '      bash: exec sleep 3600',
        '',
      ].join('\n'),
    );
    expect((await peers[0]!.monkd.monk(['load', file])).code).toBe(0);

    await victim.monkd.restart();
    await eventually(
      async () =>
        (await victim.client.listTemplates()).some((t) => t.path === 'away/thing') ? true : undefined,
      {
        what: 'the restarted peer to catch up on what changed while it was away',
      },
    );
    expect((await infoOf(victim)).clusterName).toBe('alpha');
    for (const peer of peers.slice(0, 4)) {
      await eventually(async () => ((await stateOf(peer, victimId)) === 'alive' ? true : undefined), {
        what: `${peer.name} to see ${victim.name} alive again`,
        timeoutMs: 30_000,
      });
    }
    // Its container kept running through the kill; once the peer is back, so is what ps says of it.
    await eventually(
      async () =>
        (await peers[1]!.client.ps({})).some(
          (r) => r.workloadId === 'victim/sleeper#c' && r.state === 'ready',
        )
          ? true
          : undefined,
      { what: "p2 to see the victim's instance ready again" },
    );
  });

  it('refuses used, expired and forged tokens, and the issuer logs each refusal', async () => {
    const newcomer = await startPeer('late');
    others.push(newcomer);
    const issuer = peers[0]!;
    const token = await tokenFrom(issuer);
    const spare = await startPeer('spare');
    others.push(spare);
    expect(await codeOf(spare.client.call('cluster.join', { token }))).toBe('no error');
    expect(await codeOf(newcomer.client.call('cluster.join', { token }))).toBe('JOIN_TOKEN_USED');

    const expired = await tokenFrom(issuer, { ttlSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await codeOf(newcomer.client.call('cluster.join', { token: expired }))).toBe('JOIN_TOKEN_EXPIRED');

    const fresh = await tokenFrom(issuer);
    const forged = `${fresh.slice(0, 20)}${fresh[20] === 'A' ? 'B' : 'A'}${fresh.slice(21)}`;
    expect(await codeOf(newcomer.client.call('cluster.join', { token: forged }))).toBe('JOIN_TOKEN_INVALID');

    expect(await issuer.monkd.log()).toMatch(/refused a join from .*already used/);
    expect(await infoOf(newcomer).catch((e: MonkError) => e.code)).toBe('CLUSTER_NOT_FOUND');
  });

  it('a removed peer is cut off and falls back to running alone', async () => {
    const spare = others.find((p) => p.name === 'spare')!;
    const spareId = await spare.monkd.peerId();
    await peers[1]!.client.call('cluster.peerRemove', { id: spareId });
    await eventually(
      async () =>
        (await infoOf(spare).catch((e: MonkError) => e.code)) === 'CLUSTER_NOT_FOUND' ? true : undefined,
      {
        what: 'the removed peer to notice it was removed',
      },
    );
    for (const peer of peers) {
      await eventually(async () => ((await peersOf(peer)).some((p) => p.id === spareId) ? undefined : true), {
        what: `${peer.name} to forget the removed peer`,
      });
    }
  });

  it('two separate clusters side by side never mix', async () => {
    const g = await startPeer('g');
    const h = await startPeer('h');
    others.push(g, h);
    await g.client.call('cluster.new', { name: 'beta' });
    await h.client.call('cluster.join', { token: await tokenFrom(g) });
    const file = join(scratch, 'beta.yaml');
    await writeFile(
      file,
      [
        'namespace: beta',
        'only:',
        '  defines: runnable',
        '  containers:',
        '    c:',
        '      image: monk-local/busybox',
        '      bash: exec sleep 3600',
        '',
      ].join('\n'),
    );
    expect((await g.monkd.monk(['load', file])).code).toBe(0);
    await eventually(
      async () => ((await h.client.listTemplates()).some((t) => t.path === 'beta/only') ? true : undefined),
      {
        what: 'h to see beta/only',
      },
    );
    expect((await peersOf(g)).map((p) => p.name).sort()).toEqual(['g', 'h']);
    expect((await peersOf(peers[0]!)).map((p) => p.name).sort()).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
    expect((await peers[0]!.client.listTemplates()).some((t) => t.path === 'beta/only')).toBe(false);
    // A member of one cluster cannot be talked into another.
    expect(await codeOf(peers[2]!.client.call('cluster.join', { token: await tokenFrom(g) }))).toBe(
      'CLUSTER_EXISTS',
    );
  });
});
