import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileStore, createGraph } from '@monk/graph';
import { createPrng, MonkError, type Workload } from '@monk/model';
import { createTokenLedger, readClusterConfig, writeClusterConfig } from './cluster/cluster-files.ts';
import { readDataJson, writeDataFile } from './data-file.ts';
import { openGraph, readSparedContainers } from './graph-recovery.ts';
import { createLogger } from './logger.ts';
import { loadOrCreatePeer } from './peer-identity.ts';
import { createFileKeyProvider } from './secrets/secrets-key.ts';

const files = [
  'identity.key',
  'peer.json',
  'secrets.key',
  'cluster.json',
  'join-tokens.json',
  'spared-containers.json',
  'graph/graph.log',
  'graph/graph.snapshot',
] as const;
const casesPerFile = 30;

const workload = (id: string): Workload => ({
  id,
  deployment: 'ns/app',
  runnable: 'ns/app',
  container: 'main',
  name: id.replace(/[^a-z0-9-]/g, '-'),
  aliases: [],
  spec: { image: 'monk-local/busybox:latest', environment: {}, ports: [], mounts: [], files: [], labels: {} },
  specHash: '0000000000000000',
  dependsOn: [],
  recovery: { restart: 'always', initialBackoffMs: 1000, maxBackoffMs: 60000 },
  owner: 'peer-a',
  state: 'running',
  generation: 1,
});

/**
 * Everything monkd reads from its data dir when it starts, as it reads it (a lone peer: a damaged graph
 * is refused rather than recovered from neighbours).
 */
async function startUp(dataDir: string): Promise<string> {
  const peer = await loadOrCreatePeer({ dataDir, name: 'fresh-name' });
  const cluster = await readClusterConfig(dataDir);
  const { graph } = await openGraph(
    { dataDir, member: false, recoverGraph: false, graph: { peerId: peer.identity.peerId } },
    {
      logger: createLogger({ level: 'error', write: () => undefined }),
      runtime: { info: () => Promise.reject(new Error('no engine in this test')) },
    },
  );
  const state = {
    peerId: peer.identity.peerId,
    name: peer.name,
    cluster,
    workloads: graph.listWorkloads(),
    secretsKey: Buffer.from(
      await createFileKeyProvider({ path: join(dataDir, 'secrets.key') }).key(),
    ).toString('hex'),
    tokens: await readDataJson(join(dataDir, 'join-tokens.json')),
    spared: await readSparedContainers(dataDir),
  };
  await graph.close();
  return JSON.stringify(state);
}

describe('a data dir with one damaged byte (real files on disk)', () => {
  let scratch: string;
  let baseline: string;
  let acknowledged: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'monk-data-dir-flips-'));
    baseline = join(scratch, 'baseline');
    const peer = await loadOrCreatePeer({ dataDir: baseline, name: 'peer-a' });
    await createFileKeyProvider({ path: join(baseline, 'secrets.key') }).key();
    await writeClusterConfig(baseline, {
      clusterId: 'c-1',
      clusterName: 'alpha',
      networkKey: 'k'.repeat(44),
      createdAt: '2026-12-02T00:00:00.000Z',
      knownPeers: [{ id: 'peer-b', addresses: ['/ip4/127.0.0.1/tcp/44001'] }],
    });
    await createTokenLedger(baseline).issue({
      secretHash: 'h'.repeat(43),
      role: 'peer',
      expiresAt: '2030-01-01T00:00:00.000Z',
      issuedAt: '2026-12-02T00:00:00.000Z',
    });
    // As monkd --recover-graph writes it.
    await writeDataFile(join(baseline, 'spared-containers.json'), '["c0ffee"]\n');
    const graph = await createGraph({
      peerId: peer.identity.peerId,
      store: createFileStore({ dir: join(baseline, 'graph'), compactEvery: 8 }),
    });
    for (let i = 0; i < 12; i++) {
      graph.putWorkloads([workload(`ns/app#c${i}`)]);
      await graph.flush();
    }
    await graph.close();
    acknowledged = await startUp(baseline);
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  // Issue 7: each file of the data dir, flipped at seeded offsets: monkd either starts with everything that
  // was acknowledged, or refuses to start naming the damaged file. Never a silent, different state.
  it(`${files.length * casesPerFile} seeded flips: every start is whole or refused naming the file`, async () => {
    const random = createPrng(2026);
    const outcomes = { whole: 0, refused: 0 };
    for (const file of files) {
      for (let run = 0; run < casesPerFile; run++) {
        const dataDir = join(scratch, `case-${file.replace('/', '-')}-${run}`);
        await cp(baseline, dataDir, { recursive: true });
        const path = join(dataDir, file);
        const bytes = await readFile(path);
        const at = Math.floor(random() * bytes.length);
        bytes[at] = (bytes[at] ?? 0) ^ (1 + Math.floor(random() * 255));
        await writeFile(path, bytes);
        const where = `${file}, byte ${at} of ${bytes.length}`;
        try {
          expect(await startUp(dataDir), where).toBe(acknowledged);
          outcomes.whole++;
        } catch (error) {
          if (!(error instanceof MonkError)) throw error;
          expect(error.message, `${where}: ${error.message}`).toContain(path);
          // Refusing must leave the damaged file as it was, for the operator to look at.
          expect(await readFile(path), where).toEqual(bytes);
          outcomes.refused++;
        }
        await rm(dataDir, { recursive: true, force: true });
      }
    }
    expect(outcomes.whole + outcomes.refused).toBe(files.length * casesPerFile);
    expect(outcomes.refused).toBeGreaterThan(files.length * casesPerFile * 0.9);
  });
});
