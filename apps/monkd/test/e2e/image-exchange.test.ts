import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMonkClient,
  createUnixSocketTransport,
  type ClusterInfo,
  type ImagesResult,
  type MonkClient,
  type PeerEntry,
  type PsEntry,
} from '@monk/sdk';
import { startDockerEngine, type DockerEngine } from '../docker-engine.ts';
import { docker, eventually, startMonkd, type MonkdProcess } from '../harness.ts';

interface Peer {
  readonly name: string;
  readonly monkd: MonkdProcess;
  readonly client: MonkClient;
}

async function startPeer(name: string, options: { dockerSocket?: string; registryPullSeconds: number }) {
  const monkd = await startMonkd({
    ...(options.dockerSocket === undefined ? {} : { dockerSocket: options.dockerSocket }),
    extraArgs: [
      '--name',
      name,
      '--p2p-host',
      '127.0.0.1',
      '--p2p-port',
      '0',
      '--registry-pull-timeout',
      String(options.registryPullSeconds),
    ],
  });
  return {
    name,
    monkd,
    client: createMonkClient({ transport: createUnixSocketTransport({ path: monkd.socket }) }),
  };
}

describe('images travel between peers: two monkd on two Docker engines (needs Docker, root)', () => {
  const run = randomUUID().slice(0, 8);
  // Tagged on the host engine only: the second engine starts empty (not even busybox).
  const image = `monk-e2e/exchange-${run}:1`;
  const nobodys = `monk-e2e/nobody-${run}:1`;
  let engine: DockerEngine | undefined;
  let first: Peer | undefined;
  let second: Peer | undefined;
  let scratch = '';

  const peers = (): [Peer, Peer, DockerEngine] => {
    if (first === undefined || second === undefined || engine === undefined) throw new Error('no cluster');
    return [first, second, engine];
  };

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'monk-exchange-e2e-'));
    await docker(['tag', 'monk-local/busybox:latest', image]);
    engine = await startDockerEngine({ addressPool: '10.221.0.0/16' });
    first = await startPeer('p1', { registryPullSeconds: 0 });
    // p2 tries a registry first, as a default monkd does; none answers here, so it asks p1.
    second = await startPeer('p2', { dockerSocket: engine.socket, registryPullSeconds: 2 });
    await first.client.call('cluster.new', { name: 'exchange' });
    const { token } = (await first.client.call('cluster.joinToken', { ttlSeconds: 600 })) as {
      token: string;
    };
    const joined = (await second.client.call('cluster.join', { token })) as ClusterInfo;
    expect(joined.clusterName).toBe('exchange');
    for (const peer of [first, second]) {
      await eventually(
        async () => {
          const list = (await peer.client.call('cluster.peers', {})) as PeerEntry[];
          return list.length === 2 && list.every((p) => p.state === 'alive') ? true : undefined;
        },
        { what: `${peer.name} to see both peers alive`, timeoutMs: 30_000 },
      );
    }
    await writeFile(
      join(scratch, 'exchange.yaml'),
      [
        'namespace: exch',
        'app:',
        '  defines: runnable',
        '  containers:',
        '    app:',
        `      image: monk-e2e/exchange-${run}`,
        '      image-tag: "1"',
        '      bash: exec sleep 3600',
        'twin:',
        '  defines: runnable',
        '  containers:',
        '    twin:',
        `      image: monk-e2e/exchange-${run}`,
        '      image-tag: "1"',
        '      bash: exec sleep 3600',
        'pair:',
        '  defines: process-group',
        '  runnable-list:',
        '    - exch/app',
        '    - exch/twin',
        'ghost:',
        '  defines: runnable',
        '  containers:',
        '    ghost:',
        `      image: monk-e2e/nobody-${run}`,
        '      image-tag: "1"',
        '      bash: exec sleep 3600',
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await second?.monkd[Symbol.asyncDispose]();
    await first?.monkd[Symbol.asyncDispose]();
    await engine?.[Symbol.asyncDispose]();
    await docker(['rmi', image]).catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
  });

  it('runs on p2 two instances of an image only p1 has: fetched once over libp2p, with the same image ID', async () => {
    const [p1, p2, engine2] = peers();
    expect(await engine2.docker(['images', '-q'])).toBe('');
    expect((await p2.monkd.monk(['load', join(scratch, 'exchange.yaml')])).code).toBe(0);

    const result = await p2.monkd.monk(['run', 'exch/pair', '--peer', 'p2', '--timeout', '120']);
    expect(result.code, result.stderr).toBe(0);
    // `monk run` shows the wait for the image while it lasts.
    expect(result.stderr).toMatch(new RegExp(`exch/app#app +pending: (looking for|fetching) image ${image}`));

    const rows = await eventually(
      async () => {
        const ready = (await p2.client.ps({})).filter(
          (r: PsEntry) => r.deployment === 'exch/pair' && r.ready,
        );
        return ready.length === 2 ? ready : undefined;
      },
      { what: 'both instances ready on p2' },
    );
    const p2Id = await p2.monkd.peerId();
    expect(rows.map((r) => r.peer)).toEqual([p2Id, p2Id]);
    const onHost = (await docker(['image', 'inspect', '--format', '{{.Id}}', image])).trim();
    const onSecond = (await engine2.docker(['image', 'inspect', '--format', '{{.Id}}', image])).trim();
    expect(onSecond).toBe(onHost);
    expect((await engine2.docker(['ps', '--format', '{{.Image}}'])).trim().split('\n')).toEqual([
      image,
      image,
    ]);

    const log = await p2.monkd.log();
    expect(log).toContain(`fetching image ${image} from peer p1 (2 MB)`);
    expect(log.match(/"fetched image /g)).toHaveLength(1);
    expect(await p1.monkd.log()).toContain(`sending image ${image} to peer`);
  });

  it('lists every image and which peers hold it', async () => {
    const [p1, p2] = peers();
    for (const peer of [p1, p2]) {
      const listed = await peer.monkd.monkJson<ImagesResult>(['images']);
      expect(listed.unreachable).toEqual([]);
      expect(listed.images.find((i) => i.repoTags.includes(image))).toMatchObject({ peers: ['p1', 'p2'] });
      expect(listed.images.find((i) => i.repoTags.includes('monk-local/busybox:latest'))?.peers).toContain(
        'p1',
      );
    }
    const table = await p2.monkd.monk(['images']);
    expect(table.stdout).toMatch(new RegExp(`${image}.*p1, p2`));
  });

  it('fails an instance whose image no peer has with IMAGE_NOT_FOUND, naming the peers asked', async () => {
    const [, p2] = peers();
    const result = await p2.monkd.monk(['run', 'exch/ghost', '--peer', 'p2', '--timeout', '60']);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(`image ${nobodys} is on no peer: asked p1 (does not have it)`);
    const ghost = (await p2.client.ps({})).find((r: PsEntry) => r.workloadId === 'exch/ghost#ghost');
    expect(ghost).toMatchObject({ phase: 'failed', errorCode: 'IMAGE_NOT_FOUND' });
    expect(ghost?.message).toMatch(/asked p1 \(does not have it\); cannot pull image .*:/);
  });

  it('keeps registry credentials given on one peer for every peer, never showing the password', async () => {
    const [p1, p2] = peers();
    const login = await p1.monkd.monk(
      ['registry', 'login', 'registry.example.com:5000', '-u', 'ci', '--password-stdin'],
      { input: 'hunter2\n' },
    );
    expect(login.code, login.stderr).toBe(0);
    const listed = await eventually(
      async () => {
        const entries = await p2.monkd.monkJson<{ server: string; username: string }[]>(['registry', 'list']);
        return entries.length > 0 ? entries : undefined;
      },
      { what: 'p2 to see the registry credentials' },
    );
    expect(listed).toMatchObject([{ server: 'registry.example.com:5000', username: 'ci' }]);
    expect(JSON.stringify(listed)).not.toContain('hunter2');
    expect((await p2.monkd.monk(['registry', 'logout', 'registry.example.com:5000'])).code).toBe(0);
  });
});
