import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerEntry } from '@monk/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, monkAt, startMonkd, type CliResult, type MonkdProcess } from '../harness.ts';

const p2pArgs = (name: string): string[] => ['--name', name, '--p2p-host', '127.0.0.1', '--p2p-port', '0'];
const ok = (result: CliResult): CliResult => {
  expect(result.code, `${result.stderr}${result.stdout}`).toBe(0);
  return result;
};
const secretValue = 'op3rator-must-not-see-4d1e';

/** A runnable whose action echoes a secret, and one that does not. */
const vaultYaml = `namespace: vault
app:
  defines: runnable
  permitted-secrets:
    api-token: true
  variables:
    token:
      type: string
      value: <- secret("api-token")
  containers:
    main:
      image: monk-local/busybox
      image-tag: latest
      bash: exec sleep 3600
  actions:
    reveal:
      code: exec("main", "echo", $token)
    hello:
      code: exec("main", "echo", "hello")
`;

interface Operator {
  readonly id: string;
  readonly home: string;
  monk(args: readonly string[], input?: string): Promise<CliResult>;
}

describe('operator access levels: admin, deploy, view (built bin/monk + bin/monkd, needs Docker)', () => {
  let a: MonkdProcess;
  let b: MonkdProcess;
  let scratch: string;
  const operators: Operator[] = [];
  let deployer: Operator;
  let viewer: Operator;
  let admin: Operator;

  const operatorIds = async (): Promise<string[]> =>
    (await a.monkJson<PeerEntry[]>(['cluster', 'peers']))
      .filter((p) => p.role === 'operator')
      .map((p) => p.id);

  /** A machine without monkd switches to the cluster with an operator token minted by `a`. */
  const newOperator = async (tokenArgs: readonly string[]): Promise<Operator> => {
    const token = ok(
      await a.monk(['cluster', 'join-token', '--role', 'operator', ...tokenArgs]),
    ).stdout.trim();
    const home = await mkdtemp(join(tmpdir(), 'monk-e2e-access-'));
    const before = await operatorIds();
    ok(await monkAt(['cluster', 'switch', token], { home }));
    const id = (await operatorIds()).find((candidate) => !before.includes(candidate));
    if (id === undefined) throw new Error('the new operator is not listed in cluster peers');
    const operator: Operator = {
      id,
      home,
      monk: (args: readonly string[], input?: string) =>
        monkAt(args, { home, ...(input === undefined ? {} : { input }) }),
    };
    operators.push(operator);
    return operator;
  };

  const refused = (result: CliResult, expected: { method: string; access: string; needed: string }): void => {
    const { method, access, needed } = expected;
    expect(result.code, result.stdout).not.toBe(0);
    expect(result.stderr).toContain('ACCESS_DENIED');
    expect(result.stderr).toContain(method);
    expect(result.stderr).toContain(`has ${access} access`);
    expect(result.stderr).toContain(`needs ${needed}`);
  };

  beforeAll(async () => {
    [a, b] = await Promise.all([
      startMonkd({ extraArgs: p2pArgs('access-a') }),
      startMonkd({ extraArgs: p2pArgs('access-b') }),
    ]);
    scratch = await mkdtemp(join(tmpdir(), 'monk-e2e-access-scratch-'));
    await writeFile(join(scratch, 'vault.yaml'), vaultYaml);
    ok(await a.monk(['cluster', 'new', '--name', 'access-e2e']));
    ok(await a.monk(['secrets', 'add', 'api-token', '-'], { input: `${secretValue}\n` }));
  });
  afterAll(async () => {
    await Promise.all([a?.[Symbol.asyncDispose](), b?.[Symbol.asyncDispose]()]);
    await Promise.all(operators.map((o) => rm(o.home, { recursive: true, force: true })));
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  });

  it('an operator token without --access gives deploy access, which cannot mint join tokens', async () => {
    deployer = await newOperator([]);
    refused(await deployer.monk(['cluster', 'join-token', '--role', 'peer']), {
      method: 'cluster.joinToken',
      access: 'deploy',
      needed: 'admin',
    });
    refused(await deployer.monk(['cluster', 'join-token', '--role', 'operator', '--access', 'view']), {
      method: 'cluster.joinToken',
      access: 'deploy',
      needed: 'admin',
    });
  });

  it('a deploy operator runs workloads and actions but gets no secret value out of them', async () => {
    ok(await deployer.monk(['secrets', 'add', 'other-token', '-'], 'x\n'));
    expect(ok(await deployer.monk(['secrets', 'list'])).stdout).not.toContain(secretValue);
    ok(await deployer.monk(['load', join(scratch, 'vault.yaml')]));
    expect(ok(await deployer.monk(['run', 'vault/app'])).stdout).toContain('vault/app is ready');
    expect(ok(await deployer.monk(['do', 'vault/app/hello'])).stdout).toBe('hello\n');

    const reveal = await deployer.monk(['do', 'vault/app/reveal']);
    refused(reveal, { method: 'do', access: 'deploy', needed: 'admin' });
    expect(reveal.stdout + reveal.stderr).not.toContain(secretValue);
    // The host's own operator (the unix socket) still reads it.
    expect(ok(await a.monk(['do', 'vault/app/reveal'])).stdout).toBe(`${secretValue}\n`);
  });

  it('a view operator reads but changes nothing', async () => {
    viewer = await newOperator(['--access', 'view']);
    expect(ok(await viewer.monk(['ps'])).stdout).toContain('vault/app');
    expect(ok(await viewer.monk(['list'])).stdout).toContain('vault/app');
    ok(await viewer.monk(['secrets', 'list']));
    refused(await viewer.monk(['stop', 'vault/app']), { method: 'stop', access: 'view', needed: 'deploy' });
    refused(await viewer.monk(['load', join(scratch, 'vault.yaml')]), {
      method: 'templates.put',
      access: 'view',
      needed: 'deploy',
    });
    refused(await viewer.monk(['secrets', 'add', 'x', '-'], 'y\n'), {
      method: 'secrets.add',
      access: 'view',
      needed: 'deploy',
    });
    refused(await viewer.monk(['do', 'vault/app/hello']), { method: 'do', access: 'view', needed: 'deploy' });
    refused(await viewer.monk(['exec', 'vault/app', '--', 'true']), {
      method: 'exec',
      access: 'view',
      needed: 'deploy',
    });
    refused(await viewer.monk(['cluster', 'peer-remove', deployer.id]), {
      method: 'cluster.peerRemove',
      access: 'view',
      needed: 'admin',
    });
    expect((await a.monkJson<Array<{ workloadId: string; phase: string }>>(['ps']))[0]?.phase).toBe('ready');
  });

  it('an admin operator mints a peer token, and the host that joins with it holds the secrets key', async () => {
    admin = await newOperator(['--access', 'admin']);
    const token = ok(await admin.monk(['cluster', 'join-token', '--role', 'peer'])).stdout.trim();
    ok(await b.monk(['cluster', 'join', token]));
    expect(await readFile(join(b.dataDir, 'secrets.key'))).toEqual(
      await readFile(join(a.dataDir, 'secrets.key')),
    );
    expect(ok(await admin.monk(['do', 'vault/app/reveal'])).stdout).toBe(`${secretValue}\n`);
  });

  it('monk cluster operators lists every operator with its access', async () => {
    const listed = await a.monkJson<Array<{ id: string; access: string }>>(['cluster', 'operators']);
    expect(listed.map((o) => [o.id, o.access]).sort()).toEqual(
      [
        [deployer.id, 'deploy'],
        [viewer.id, 'view'],
        [admin.id, 'admin'],
      ].sort(),
    );
    const table = ok(await viewer.monk(['cluster', 'operators'])).stdout;
    expect(table).toMatch(/^ID\s+NAME\s+ACCESS\s+STATE\s+JOINED\n/);
    expect(table.trim().split('\n')).toHaveLength(4);
  });

  it('peer-remove revokes an operator: the others forget it and its next call is refused', async () => {
    ok(await admin.monk(['cluster', 'peer-remove', deployer.id]));
    await eventually(
      async () =>
        (await b.monkJson<PeerEntry[]>(['cluster', 'peers'])).some((p) => p.id === deployer.id)
          ? undefined
          : true,
      { what: 'the removal to reach the second peer' },
    );
    const after = await deployer.monk(['ps']);
    expect(after.code).not.toBe(0);
    expect(after.stderr).toMatch(/NOT_A_MEMBER|PEER_UNREACHABLE/);
    expect(await operatorIds()).not.toContain(deployer.id);
  });
});
