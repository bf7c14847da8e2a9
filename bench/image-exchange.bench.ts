// Issue 8 (real hosts) figure: the time to ship a ~100 MB image to another peer through the cluster exchange
// (docker save on the holder, streamed over libp2p, docker load and ID check on the receiver), against
// `docker save | docker load` between the same two engines without monk, and on one engine. Two real
// bin/monkd on loopback; the receiver has its own Docker engine (started here, removed at the end).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createMonkClient, createUnixSocketTransport, type MonkClient } from '../packages/sdk/src/index.ts';
import { createDockerImageStore } from '../packages/runtime/src/index.ts';
import { createP2PNode, generateIdentity, generateNetworkKey } from '../packages/p2p/src/index.ts';
import { startDockerEngine } from '../apps/monkd/test/docker-engine.ts';
import { until } from './poll.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const image = 'monk-bench/exchange-100mb:1';
const rounds = 3;

const sh = async (command: string): Promise<string> =>
  (await run('sh', ['-c', command], { maxBuffer: 16 * 1024 * 1024 })).stdout;

interface Peer {
  readonly client: MonkClient;
  readonly child: ChildProcess;
}

function startPeer(name: string, dockerSocket?: string): Peer {
  const dir = join(scratch, name);
  const child = spawn(
    join(root, 'bin/monkd'),
    [
      '--no-mesh',
      '--data-dir',
      dir,
      '--name',
      name,
      '--p2p-host',
      '127.0.0.1',
      '--p2p-port',
      '0',
      '--registry-pull-timeout',
      '0',
      '--log-level',
      'warn',
      ...(dockerSocket === undefined ? [] : ['--docker-socket', dockerSocket]),
    ],
    { stdio: 'ignore' },
  );
  const client = createMonkClient({
    transport: createUnixSocketTransport({ path: join(dir, 'monkd.sock') }),
  });
  return { client, child };
}

async function stop(peer: Peer | undefined): Promise<void> {
  const child = peer?.child;
  if (child === undefined || child.exitCode !== null) return;
  await new Promise<void>((r) => {
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}

/** The ceiling: 100 MB over one libp2p stream between two nodes of this process (noise + yamux), no Docker. */
async function libp2pAlone(bytes: number): Promise<number> {
  const networkKey = generateNetworkKey();
  const identities = [await generateIdentity(), await generateIdentity()] as const;
  const allowList = identities.map((identity) => identity.peerId);
  const [sender, receiver] = await Promise.all(
    identities.map((identity) =>
      createP2PNode({ identity, listen: { host: '127.0.0.1', port: 0 }, networkKey, allowList }),
    ),
  );
  if (sender === undefined || receiver === undefined) throw new Error('no nodes');
  await sender.start();
  await receiver.start();
  try {
    const piece = new Uint8Array(256 * 1024);
    sender.handleStream(
      '/bench/bytes/1.0.0',
      async (stream) => {
        for (let sent = 0; sent < bytes; sent += piece.byteLength) await stream.send(piece);
      },
      { maxMessageBytes: 1024 * 1024 },
    );
    await receiver.addPeerAddresses(sender.peerId, sender.addresses());
    const started = performance.now();
    const stream = await receiver.openStream(sender.peerId, '/bench/bytes/1.0.0', {
      maxMessageBytes: 1024 * 1024,
    });
    for await (const message of stream) void message;
    return performance.now() - started;
  } finally {
    await sender.stop();
    await receiver.stop();
  }
}

const median = (values: number[]): number =>
  [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? NaN;

// A busybox layer plus a 100 MB layer of random bytes (incompressible, as real layers mostly are).
await sh(
  `docker rm -f monk-bench-exchange-build >/dev/null 2>&1; docker run --network none --name monk-bench-exchange-build monk-local/busybox:latest sh -c 'head -c 100000000 /dev/urandom > /blob' && docker commit --change 'CMD ["sleep","3600"]' monk-bench-exchange-build ${image} >/dev/null && docker rm monk-bench-exchange-build >/dev/null`,
);
const scratch = mkdtempSync(join(tmpdir(), 'monk-bench-exchange-'));
const size = Number((await sh(`docker image inspect --format '{{.Size}}' ${image}`)).trim());
const engine = await startDockerEngine({ addressPool: '10.222.0.0/16' });
const other = `docker -H unix://${engine.socket}`;
const receiving = createDockerImageStore({ socketPath: engine.socket });
let p1: Peer | undefined;
let p2: Peer | undefined;
try {
  const alone: number[] = [];
  for (let round = 0; round < rounds; round++) alone.push(await libp2pAlone(size));
  const oneEngine: number[] = [];
  const twoEngines: number[] = [];
  const exchange: number[] = [];
  for (let round = 0; round < rounds; round++) {
    let started = performance.now();
    await sh(`docker save ${image} | docker load >/dev/null`);
    oneEngine.push(performance.now() - started);
    started = performance.now();
    await sh(`docker save ${image} | ${other} load >/dev/null`);
    twoEngines.push(performance.now() - started);
    await sh(`${other} rmi ${image} >/dev/null`);
  }

  p1 = startPeer('p1');
  p2 = startPeer('p2', engine.socket);
  const [first, second] = [p1, p2];
  await until(() => first.client.info(), 'p1 to start');
  await until(() => second.client.info(), 'p2 to start');
  await first.client.call('cluster.new', { name: 'bench' });
  const { token } = (await first.client.call('cluster.joinToken', { ttlSeconds: 600 })) as { token: string };
  await second.client.call('cluster.join', { token });
  const file = join(scratch, 'bench.yaml');
  writeFileSync(
    file,
    [
      'namespace: bench',
      'big:',
      '  defines: runnable',
      '  containers:',
      '    big:',
      '      image: monk-bench/exchange-100mb',
      '      image-tag: "1"',
      '',
    ].join('\n'),
  );
  await sh(`MONK_SOCKET=${join(scratch, 'p2', 'monkd.sock')} ${join(root, 'bin/monk')} load ${file}`);
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    // Accepted at once; the clock stops when the image is on p2's engine (not when the container runs).
    await second.client.run({ path: 'bench/big', wait: false });
    // Polled through the engine's API: spawning the docker CLI every few ms would slow what is measured.
    await until(
      async () => ((await receiving.inspectImage(image)) === undefined ? undefined : true),
      'the image on the second engine',
    );
    exchange.push(performance.now() - started);
    await second.client.purge({ path: 'bench/big' });
    await until(
      async () => ((await sh(`${other} ps -aq`)).trim() === '' ? true : undefined),
      'the container gone',
    );
    await sh(`${other} rmi ${image} >/dev/null`);
  }
  const mb = (size / 1_000_000).toFixed(0);
  console.log(`image of ${mb} MB (busybox + 100 MB of random bytes); median of ${rounds} rounds`);
  console.log(`docker save | docker load, one engine:              ${median(oneEngine).toFixed(0)} ms`);
  console.log(`docker save | docker load, to a second engine:      ${median(twoEngines).toFixed(0)} ms`);
  console.log(
    `one libp2p stream alone (noise + yamux, no Docker): ${median(alone).toFixed(0)} ms ` +
      `(${((size / 1_000_000 / median(alone)) * 1000).toFixed(0)} MB/s)`,
  );
  console.log(
    `cluster exchange to another peer (save, libp2p, load, ID check): ${median(exchange).toFixed(0)} ms ` +
      `(${(median(exchange) / median(twoEngines)).toFixed(2)}× save|load between the engines, ` +
      `${(median(exchange) / median(oneEngine)).toFixed(2)}× on one engine; ` +
      `${((size / 1_000_000 / median(exchange)) * 1000).toFixed(0)} MB/s)`,
  );
} finally {
  await stop(p2);
  await stop(p1);
  await engine[Symbol.asyncDispose]();
  await sh(`docker rmi ${image} >/dev/null 2>&1 || true`);
  rmSync(scratch, { recursive: true, force: true });
}
