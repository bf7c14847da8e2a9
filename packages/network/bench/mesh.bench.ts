// The mesh's figures on this machine: TCP throughput between two network namespaces through the WireGuard
// tunnel (wireguard-go here) against the same transfer over the raw veth underlay, and DNS answer latency.
// Needs root and iperf3. Run from the repository root:
//   node --conditions=@monk/source packages/network/bench/mesh.bench.ts
import { createSocket } from 'node:dgram';
import { availableParallelism, loadavg } from 'node:os';
import { dnsTypes, encodeQuery, startDnsServer } from '../src/index.ts';
import { createNamespacePair, eventually } from '../test/namespace-pair.ts';

const seconds = 3;
const dnsQueries = 5_000;

function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

async function throughput(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('throughput: skipped (needs root for network namespaces)');
    return;
  }
  await using pair = await createNamespacePair('bench');
  const { a, b } = pair;
  const server = b.spawn('iperf3', ['-s', '-p', '5201', '--forceflush']);
  let said = '';
  server.stdout?.on('data', (chunk: Buffer) => (said += chunk.toString()));
  if (!(await eventually(async () => said.includes('Server listening'))))
    throw new Error('iperf3 -s did not start');
  const measure = async (to: string, streams = 1): Promise<number> => {
    const { stdout } = await a.exec('iperf3', [
      '-c',
      to,
      '-p',
      '5201',
      '-t',
      String(seconds),
      '-P',
      String(streams),
      '-J',
    ]);
    const report = JSON.parse(stdout) as { end: { sum_received: { bits_per_second: number } } };
    return report.end.sum_received.bits_per_second / 1e6;
  };
  // Warm the tunnel (handshake) before measuring.
  await eventually(() =>
    a.exec('ping', ['-c', '1', '-W', '1', b.peer.overlayAddress]).then(
      () => true,
      () => false,
    ),
  );
  const raw = await measure(b.underlayAddress);
  const mesh = await measure(b.peer.overlayAddress);
  const raw4 = await measure(b.underlayAddress, 4);
  const mesh4 = await measure(b.peer.overlayAddress, 4);
  const link = (await a.exec('ip', ['-o', 'link', 'show', 'dev', a.wireguard.name])).stdout;
  const mtu = /mtu (\d+)/.exec(link)?.[1] ?? '?';
  // What the figures depend on most: the wireguard-go build (TUN offloads, GSO/GRO, arrived in
  // v0.0.20230223; before it every 1420-byte packet crosses the TUN device and is sealed on its own),
  // the cores, and how busy they are while this runs.
  const version = await a.exec('wireguard-go', ['--version']).then(
    ({ stdout }) => /v[\d.]+/.exec(stdout)?.[0] ?? 'unknown',
    () => 'not installed',
  );
  const [load1] = loadavg();
  console.log(
    `wireguard-go ${version}, ${availableParallelism()} cores, load average ${load1?.toFixed(1) ?? '?'} at the end`,
  );
  console.log(`TCP throughput, ${seconds} s each, one stream (iperf3), namespace A → B:`);
  console.log(`  raw veth underlay (MTU 1500):    ${raw.toFixed(0)} Mbit/s`);
  console.log(`  WireGuard mesh (wireguard-go, MTU ${mtu}): ${mesh.toFixed(0)} Mbit/s`);
  console.log(`  ratio mesh / raw:                 ${(mesh / raw).toFixed(2)}x (target >= 0.5x)`);
  console.log(
    `  4 streams: raw ${raw4.toFixed(0)} Mbit/s, mesh ${mesh4.toFixed(0)} Mbit/s, ratio ${(mesh4 / raw4).toFixed(2)}x`,
  );
}

async function dnsLatency(): Promise<void> {
  const addresses = ['10.240.17.5', '10.240.18.3', '10.240.19.9'];
  const server = await startDnsServer(
    { host: '127.0.0.1', port: 0, upstreams: [] },
    { lookup: (name) => (name === 'web.app.monk' ? { addresses } : undefined) },
  );
  const client = createSocket('udp4');
  await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
  const pending = new Map<number, () => void>();
  client.on('message', (reply) => pending.get(reply.readUInt16BE(0))?.());
  const samples: number[] = [];
  try {
    for (let i = 0; i < dnsQueries; i += 1) {
      const id = i % 65_536;
      const query = encodeQuery({ id, name: 'web.app.monk', type: dnsTypes.A });
      const started = performance.now();
      await new Promise<void>((resolve) => {
        pending.set(id, resolve);
        client.send(query, server.address().port, '127.0.0.1');
      });
      samples.push(performance.now() - started);
    }
  } finally {
    client.close();
    await server.close();
  }
  const sorted = samples.sort((x, y) => x - y);
  console.log(
    `DNS answer latency (web.app.monk, A, UDP on loopback): p50 ${percentile(sorted, 50).toFixed(3)} ms, p99 ${percentile(sorted, 99).toFixed(3)} ms (n=${dnsQueries})`,
  );
}

await throughput();
await dnsLatency();
