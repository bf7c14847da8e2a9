import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterInfo, PeerEntry, TemplateSummary } from '@monk/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, monkAt, repoRoot, startMonkd, type CliResult, type MonkdProcess } from '../harness.ts';

const p2pArgs = (name: string): string[] => ['--name', name, '--p2p-host', '127.0.0.1', '--p2p-port', '0'];
const shortId = (id: string): string => `${id.slice(0, 6)}…${id.slice(-6)}`;
const ok = (result: CliResult): CliResult => {
  expect(result.code, `${result.stderr}${result.stdout}`).toBe(0);
  return result;
};

describe('monk cluster commands and operator contexts, built bin/monk + two bin/monkd (needs Docker)', () => {
  let a: MonkdProcess;
  let b: MonkdProcess;
  let home: string;
  let aId: string;
  let bId: string;
  const operator = (args: readonly string[]): Promise<CliResult> => monkAt(args, { home });
  const peersOf = (monkd: MonkdProcess): Promise<PeerEntry[]> =>
    monkd.monkJson<PeerEntry[]>(['cluster', 'peers']);

  beforeAll(async () => {
    [a, b] = await Promise.all([
      startMonkd({ extraArgs: p2pArgs('cli-a') }),
      startMonkd({ extraArgs: p2pArgs('cli-b') }),
    ]);
    [aId, bId] = await Promise.all([a.peerId(), b.peerId()]);
    home = await mkdtemp(join(tmpdir(), 'monk-e2e-operator-'));
  });
  afterAll(async () => {
    await Promise.all([a?.[Symbol.asyncDispose](), b?.[Symbol.asyncDispose]()]);
    if (home !== undefined) await rm(home, { recursive: true, force: true });
  });

  it('creates a cluster, prints a bare join token, and a second host joins with it', async () => {
    expect(ok(await a.monk(['cluster', 'new', '--name', 'cli-e2e'])).stdout).toContain(
      'Created cluster cli-e2e',
    );
    const issued = ok(await a.monk(['cluster', 'join-token', '--ttl', '10m']));
    expect(issued.stdout).toMatch(/^monk1\.\S+\n$/);
    expect(issued.stderr).toContain('valid until');
    const joined = ok(await b.monk(['cluster', 'join', issued.stdout.trim()]));
    expect(joined.stdout).toContain('Joined cluster cli-e2e');
    await eventually(
      async () => ((await peersOf(a)).filter((p) => p.state === 'alive').length === 2 ? true : undefined),
      { what: 'both peers alive in cluster peers' },
    );
    const table = ok(await a.monk(['cluster', 'peers'])).stdout;
    expect(table).toMatch(/^ID\s+NAME\s+ROLE\s+TAGS\s+ADDRESSES\s+STATE\s+CONTAINERS\s+STARTED/);
    expect(table).toContain(`${shortId(aId)}   cli-a (self)`);
    expect(table).toContain(`${shortId(bId)}   cli-b`);
  });

  it('sets and clears tags of a peer named by its shortened id or its name', async () => {
    ok(await a.monk(['cluster', 'peer-tags', shortId(bId), '--tag', 'db,ssd']));
    expect((await peersOf(a)).find((p) => p.id === bId)?.tags).toEqual(['db', 'ssd']);
    ok(await a.monk(['cluster', 'peer-tags', 'cli-b', '--tag', '']));
    expect((await peersOf(a)).find((p) => p.id === bId)?.tags).toEqual([]);
  });

  it('lets a machine without monkd switch to the cluster with an operator token and drive it', async () => {
    const token = ok(await a.monk(['cluster', 'join-token', '--role', 'operator'])).stdout.trim();
    expect(ok(await operator(['cluster', 'switch', token])).stdout).toContain(
      'Switched to cluster cli-e2e (2 peers)',
    );
    const clusterId = (await a.monkJson<ClusterInfo>(['cluster', 'info'])).clusterId;
    expect(ok(await operator(['cluster', 'contexts'])).stdout).toMatch(
      new RegExp(`cli-e2e\\s+${clusterId}\\s+2\\s+\\*`),
    );
    expect(ok(await operator(['info'])).stdout).toMatch(/^context: +cli-e2e \(operator\)\n/);

    ok(await operator(['load', join(repoRoot, 'examples/app.yaml')]));
    await eventually(
      async () =>
        (await b.monkJson<TemplateSummary[]>(['list'])).some((t) => t.path === 'examples/app')
          ? true
          : undefined,
      { what: 'templates loaded by the operator to reach the second peer' },
    );
    expect((await peersOf(a)).filter((p) => p.role === 'operator').map((p) => p.name)).toEqual([
      expect.stringMatching(/-operator$/),
    ]);

    const missing = await operator(['info', '--cluster', 'nope']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('CONTEXT_NOT_FOUND');
  });

  it('reaches the cluster through the next peer when the first one is down', async () => {
    await a.kill();
    const info = JSON.parse(ok(await operator(['cluster', 'info', '--json'])).stdout) as ClusterInfo;
    expect(info.peerId).toBe(bId);
  });

  it('exit removes the operator from the cluster and forgets its context', async () => {
    const exit = ok(await operator(['cluster', 'exit']));
    expect(exit.stdout, exit.stderr).toContain(
      'Forgot cluster context cli-e2e (this operator was removed from the cluster)',
    );
    expect(ok(await operator(['cluster', 'contexts'])).stdout).toContain('No cluster contexts');
    expect((await peersOf(b)).some((p) => p.role === 'operator')).toBe(false);
  });

  it('destroy asks for --force without a terminal, then destroys', async () => {
    const refused = await b.monk(['cluster', 'destroy']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--force');
    expect(ok(await b.monk(['cluster', 'destroy', '--force'])).stdout).toContain('Destroyed cluster cli-e2e');
    expect((await b.monk(['cluster', 'info'])).code).toBe(4);
  });
});
