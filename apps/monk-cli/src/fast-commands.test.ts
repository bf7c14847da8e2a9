import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PeerEntry, PsEntry } from '@monk/sdk';
import { matchFastCommand, runFastCommand } from './fast-commands.ts';

describe('matchFastCommand', () => {
  it.each([
    [['ps'], { id: 'ps', json: false, all: false, socket: undefined }],
    [['ps', '-a', '--json'], { id: 'ps', json: true, all: true, socket: undefined }],
    [['ps', '--all', '--socket', '/s'], { id: 'ps', json: false, all: true, socket: '/s' }],
    [['ps', '--socket=/s'], { id: 'ps', json: false, all: false, socket: '/s' }],
    [['cluster', 'peers', '--json'], { id: 'cluster:peers', json: true, all: false, socket: undefined }],
  ])('answers %j itself', (argv, expected) => {
    expect(matchFastCommand(argv)).toEqual(expected);
  });

  it.each([
    [[]],
    [['ps', '--help']],
    [['ps', '-h']],
    [['ps', '--cluster', 'prod']],
    [['ps', '--cluster=prod']],
    [['ps', '--json', '--json']],
    [['ps', '-a', '--all']],
    [['ps', '--socket']],
    [['ps', '--socket', '--json']],
    [['ps', '--socket=']],
    [['ps', 'extra']],
    [['ps', '--bogus']],
    [['cluster', 'peers', '-a']],
    [['cluster']],
    [['cluster', 'info']],
    [['info']],
    [['--json', 'ps']],
  ])('leaves %j to oclif', (argv) => {
    expect(matchFastCommand(argv)).toBeUndefined();
  });
});

const psEntry: PsEntry = {
  workloadId: 'shop/web#web',
  deployment: 'shop/web',
  runnable: 'shop/web',
  container: 'web',
  name: 'shop-web-web',
  image: 'nginx:1.27',
  peer: '12D3KooWAbCdEfGhIjKlMnOpQrStUv',
  desired: 'running',
  phase: 'running',
  state: 'ready',
  ready: true,
  restarts: 0,
  ports: ['8080:80'],
};

const peer: PeerEntry = {
  id: '12D3KooWAbCdEfGhIjKlMnOpQrStUv',
  name: 'vm1',
  role: 'peer',
  tags: ['db'],
  addresses: ['/ip4/10.0.0.1/tcp/7946'],
  state: 'alive',
  containers: 1,
  startedAt: '2026-01-01T00:00:00.000Z',
  self: true,
};

describe('runFastCommand', () => {
  let dir: string;
  let server: Server | undefined;
  const requests: unknown[] = [];
  let stdout: string;
  let stderr: string;
  const output = {
    stdout: (text: string) => void (stdout += text),
    stderr: (text: string) => void (stderr += text),
  };
  const now = (): Date => new Date('2026-01-01T00:00:30.000Z');

  /** A stand-in monkd on a real unix socket: answers each request line with `answer(request)`. */
  async function serve(answer: (request: { method: string }) => object): Promise<string> {
    const path = join(dir, 'monkd.sock');
    server = createServer((socket) => {
      let buffered = '';
      socket.on('data', (chunk) => {
        buffered += chunk.toString();
        const end = buffered.indexOf('\n');
        if (end < 0) return;
        const request = JSON.parse(buffered.slice(0, end)) as { method: string };
        requests.push(request);
        socket.end(`${JSON.stringify(answer(request))}\n`);
      });
    });
    await new Promise<void>((resolve) => server?.listen(path, resolve));
    return path;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'monk-fast-'));
    requests.length = 0;
    stdout = '';
    stderr = '';
  });
  afterEach(async () => {
    await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the ps table, or the entries as JSON, from one ps call', async () => {
    const socket = await serve(() => ({ result: [psEntry] }));
    const env = { MONK_SOCKET: socket, MONK_HOME: dir };
    expect(await runFastCommand(matchFastCommand(['ps', '-a'])!, { env, output, now })).toBe(0);
    expect(stdout).toMatchInlineSnapshot(`
      "RUNNABLE   CONTAINER      PEER            IMAGE        PORTS     STATUS
      shop/web   shop-web-web   12D3Ko…QrStUv   nginx:1.27   8080:80   running, ready
      "
    `);
    expect(requests).toEqual([{ v: 1, method: 'ps', params: { all: true } }]);
    stdout = '';
    expect(await runFastCommand(matchFastCommand(['ps', '--json'])!, { env, output, now })).toBe(0);
    expect(JSON.parse(stdout)).toEqual([psEntry]);
    expect(stdout).toBe(`${JSON.stringify([psEntry], null, 2)}\n`);
  });

  it('prints the peers table through --socket, ignoring $MONK_SOCKET', async () => {
    const socket = await serve(() => ({ result: [peer] }));
    const env = { MONK_SOCKET: join(dir, 'elsewhere.sock'), MONK_HOME: dir };
    const code = await runFastCommand(matchFastCommand(['cluster', 'peers', '--socket', socket])!, {
      env,
      output,
      now,
    });
    expect(code).toBe(0);
    expect(stdout.split('\n')[1]).toMatch(
      /^12D3Ko…QrStUv\s+vm1 \(self\)\s+peer\s+db\s+\/ip4\/10\.0\.0\.1\/tcp\/7946\s+alive\s+1\s+30s ago$/,
    );
    expect(stdout.split('\n')[0]).toMatch(
      /^ID\s+NAME\s+ROLE\s+TAGS\s+ADDRESSES\s+STATE\s+CONTAINERS\s+STARTED$/,
    );
    expect(requests).toEqual([{ v: 1, method: 'cluster.peers', params: {} }]);
  });

  it("reports monkd's error with its code and exit code, on stderr or as JSON", async () => {
    const socket = await serve(() => ({
      error: { code: 'CLUSTER_NOT_FOUND', message: 'this peer is in no cluster' },
    }));
    const env = { MONK_SOCKET: socket, MONK_HOME: dir };
    expect(await runFastCommand(matchFastCommand(['cluster', 'peers'])!, { env, output, now })).toBe(4);
    expect(stderr).toBe('Error [CLUSTER_NOT_FOUND]: this peer is in no cluster\n');
    expect(stdout).toBe('');
    expect(
      await runFastCommand(matchFastCommand(['cluster', 'peers', '--json'])!, { env, output, now }),
    ).toBe(4);
    expect(JSON.parse(stdout)).toEqual({
      error: { code: 'CLUSTER_NOT_FOUND', message: 'this peer is in no cluster' },
    });
  });

  it('exits 3 with DAEMON_UNAVAILABLE when nothing listens on the socket', async () => {
    const env = { MONK_SOCKET: join(dir, 'missing.sock'), MONK_HOME: dir };
    expect(await runFastCommand(matchFastCommand(['ps'])!, { env, output, now })).toBe(3);
    expect(stderr).toMatch(/^Error \[DAEMON_UNAVAILABLE\]: monkd is not answering at .*missing\.sock/);
  });

  it('leaves an operator context (current or by MONK_CONTENT_TYPE) to the full command', async () => {
    await writeFile(join(dir, 'current-context'), 'prod\n');
    expect(await runFastCommand(matchFastCommand(['ps'])!, { env: { MONK_HOME: dir }, output, now })).toBe(
      undefined,
    );
    const env = { MONK_SOCKET: join(dir, 'monkd.sock'), MONK_CONTENT_TYPE: 'json', MONK_HOME: dir };
    expect(await runFastCommand(matchFastCommand(['ps'])!, { env, output, now })).toBe(undefined);
    expect(stdout + stderr).toBe('');
  });
});
