// libp2p transport benchmark on loopback: dial time, request/response latency, stream throughput and memory
// per node. Run from the repository root:
//   node --conditions=@monk/source packages/p2p/bench/p2p.bench.ts
import { createP2PNode, generateIdentity, generateNetworkKey } from '../src/index.ts';
import type { P2PNode } from '../src/index.ts';

const dials = 30;
const requests = 2000;
const extraNodes = 10;
const echo = '/monk/bench/echo/1.0.0';
const sink = '/monk/bench/sink/1.0.0';

function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const fmt = (value: number): string => value.toFixed(2);
  return `p50 ${fmt(percentile(sorted, 50))} ms, p99 ${fmt(percentile(sorted, 99))} ms (n=${String(sorted.length)})`;
}

const networkKey = generateNetworkKey();
const nodes: P2PNode[] = [];

async function startNode(allowList: string[]): Promise<P2PNode> {
  const node = await createP2PNode({
    identity: await generateIdentity(),
    listen: { host: '127.0.0.1', port: 0 },
    networkKey,
    allowList,
  });
  await node.start();
  nodes.push(node);
  return node;
}

function allowAll(): void {
  const ids = nodes.map((node) => node.peerId);
  for (const node of nodes) node.setAllowList(ids);
}

const address = (node: P2PNode): string => node.addresses()[0] ?? '';

try {
  const rssBefore = process.memoryUsage().rss;
  const server = await startNode([]);
  server.handle(echo, (request) => Promise.resolve(request), { maxRequestsPerSecondPerPeer: Infinity });
  server.handleStream(sink, async (stream) => {
    for await (const message of stream) void message;
  });

  // Dial: a fresh client each time, so each sample is TCP + pnet + noise + yamux + the admission probe.
  const dialTimes: number[] = [];
  for (let index = 0; index < dials; index += 1) {
    const client = await startNode([]);
    allowAll();
    const started = performance.now();
    await client.dial(address(server));
    dialTimes.push(performance.now() - started);
    await client.stop();
    nodes.pop();
  }
  console.log(`dial (new connection, loopback): ${summary(dialTimes)}`);

  const client = await startNode([]);
  allowAll();
  await client.dial(address(server));
  const payload = new Uint8Array(256);
  await client.request(server.peerId, echo, payload);
  const rssTwo = process.memoryUsage().rss;
  for (let index = 0; index < extraNodes; index += 1) await startNode([]);
  allowAll();
  for (const node of nodes.slice(2)) await node.dial(address(server));
  const rssAfter = process.memoryUsage().rss;
  const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
  console.log(
    `RSS: process with libp2p loaded, 2 connected nodes ${mib(rssTwo)} MiB (+${mib(rssTwo - rssBefore)} MiB over the bare process)`,
  );
  console.log(
    `RSS per extra connected node: ${mib((rssAfter - rssTwo) / extraNodes)} MiB (${String(extraNodes)} nodes)`,
  );

  for (let index = 0; index < 100; index += 1) await client.request(server.peerId, echo, payload);
  const latencies: number[] = [];
  for (let index = 0; index < requests; index += 1) {
    const started = performance.now();
    await client.request(server.peerId, echo, payload);
    latencies.push(performance.now() - started);
  }
  console.log(`request/response, 256 B, open connection: ${summary(latencies)}`);

  const concurrentStarted = performance.now();
  await Promise.all(Array.from({ length: 500 }, () => client.request(server.peerId, echo, payload)));
  const concurrentSeconds = (performance.now() - concurrentStarted) / 1000;
  console.log(`request/response throughput, 500 concurrent: ${(500 / concurrentSeconds).toFixed(0)} req/s`);

  const stream = await client.openStream(server.peerId, sink);
  const chunk = new Uint8Array(64 * 1024);
  const streamStarted = performance.now();
  const chunks = 1600;
  for (let index = 0; index < chunks; index += 1) await stream.send(chunk);
  await stream.close();
  const streamSeconds = (performance.now() - streamStarted) / 1000;
  console.log(
    `stream send, 64 KiB messages: ${((chunks * chunk.byteLength) / 2 ** 20 / streamSeconds).toFixed(0)} MiB/s`,
  );
} finally {
  await Promise.all(nodes.map((node) => node.stop()));
}
