import type { ContainerSpec, Workload } from '@monk/model';
import { specHash } from '@monk/model';
import { describe, expect, it } from 'vitest';
import { diffWorkloads } from './deployment-diff.ts';
import { formatPlan } from './format-plan.ts';
import { makeWorkload } from './test-workload.ts';

const timing = { initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 1, attempts: 3 };
const base = makeWorkload('web', {
  spec: {
    image: 'nginx:1',
    command: ['nginx', '-g', 'daemon off;'],
    environment: { DB_PASSWORD: 'hunter2', MODE: 'prod' },
    ports: [{ containerPort: 80, hostPort: 8080, protocol: 'tcp' }],
    mounts: [{ kind: 'volume', source: 'data', target: '/data', readOnly: false }],
    files: [{ path: '/etc/app.conf', contents: 'token=s3cret', mode: 0o644 }],
    labels: { team: 'web' },
    resources: { cpus: 1, memoryBytes: 256 * 1024 ** 2 },
  },
  readiness: {
    kind: 'http',
    port: 80,
    path: '/health',
    initialDelaySeconds: 0,
    periodSeconds: 1,
    timeoutSeconds: 1,
    attempts: 3,
  },
});

function withSpec(workload: Workload, change: Partial<ContainerSpec>): Workload {
  const spec = { ...workload.spec, ...change };
  return { ...workload, spec, specHash: specHash(spec) };
}

function reasonsFor(next: Workload): string[] {
  const [change] = diffWorkloads([base], [next]);
  expect(change?.kind).toBe('update');
  return change?.reasons ?? [];
}

describe('diffWorkloads', () => {
  it('sorts creations, updates, removals and unchanged workloads by id', () => {
    const other = makeWorkload('api', { owner: 'peer-b' });
    const gone = makeWorkload('old');
    const changes = diffWorkloads(
      [base, gone, makeWorkload('same')],
      [makeWorkload('same'), withSpec(base, { image: 'nginx:2' }), other],
    );
    expect(changes).toEqual([
      {
        kind: 'create',
        workloadId: 'ns/app#api',
        reasons: ['image: monk-local/busybox:latest', 'owner: peer-b'],
      },
      { kind: 'remove', workloadId: 'ns/app#old', reasons: ['was on peer-a'] },
      { kind: 'unchanged', workloadId: 'ns/app#same', reasons: [] },
      { kind: 'update', workloadId: 'ns/app#web', reasons: ['image: nginx:1 → nginx:2'] },
    ]);
  });

  it('ignores a bare generation bump', () => {
    expect(diffWorkloads([base], [{ ...base, generation: 7 }])).toEqual([
      { kind: 'unchanged', workloadId: base.id, reasons: [] },
    ]);
  });

  it.each<[string, Partial<ContainerSpec>, string[]]>([
    ['image', { image: 'nginx:2' }, ['image: nginx:1 → nginx:2']],
    ['command', { command: ['nginx'] }, ['command changed']],
    ['entrypoint', { entrypoint: ['/init'] }, ['entrypoint changed']],
    [
      'environment keys',
      { environment: { DB_PASSWORD: 'correct horse', API_KEY: 'abc' } },
      ['environment.API_KEY added', 'environment.DB_PASSWORD changed', 'environment.MODE removed'],
    ],
    [
      'ports',
      {
        ports: [
          { containerPort: 80, hostPort: 9090, hostIp: '127.0.0.1', protocol: 'tcp' },
          { containerPort: 53, protocol: 'udp' },
        ],
      },
      ['ports: +127.0.0.1:9090:80/tcp', 'ports: +53/udp', 'ports: -8080:80/tcp'],
    ],
    [
      'mounts',
      {
        mounts: [
          { kind: 'bind', source: '/srv/data', target: '/data', readOnly: true },
          { kind: 'tmpfs', source: '', target: '/tmp', readOnly: false },
        ],
      },
      ['mount /data: volume data → bind /srv/data, read-only', 'mount /tmp added (tmpfs)'],
    ],
    ['removed mounts', { mounts: [] }, ['mount /data removed']],
    [
      'files',
      {
        files: [
          { path: '/etc/app.conf', contents: 'token=other', mode: 0o644 },
          { path: '/x', contents: '', mode: 0o600 },
        ],
      },
      ['file /etc/app.conf changed', 'file /x added'],
    ],
    [
      'working dir and user',
      { workingDir: '/app', user: '1000' },
      ['workingDir: (none) → /app', 'user: (none) → 1000'],
    ],
    ['labels', { labels: { team: 'ops' } }, ['labels.team changed']],
    [
      'resources',
      { resources: { cpus: 2, memoryBytes: 1024 ** 3 } },
      ['resources.cpus: 1 → 2', 'resources.memory: 256Mi → 1Gi'],
    ],
    [
      'privileges',
      { privileged: true, capAdd: ['NET_ADMIN'] },
      ['privileged: false → true', 'capAdd: +NET_ADMIN'],
    ],
  ])('names %s changes', (_field, change, reasons) => {
    expect(reasonsFor(withSpec(base, change))).toEqual(reasons);
  });

  it.each<[string, Partial<Workload>, string[]]>([
    ['owner', { owner: 'peer-b' }, ['owner: peer-a → peer-b']],
    ['state', { state: 'stopped' }, ['state: running → stopped']],
    ['name', { name: 'web-2' }, ['name: ns-app-web → web-2']],
    [
      'dependencies and aliases',
      { dependsOn: ['ns/app#db'], aliases: ['www'] },
      ['dependsOn: +ns/app#db', 'aliases: +www'],
    ],
    [
      'recovery',
      { recovery: { restart: 'no', initialBackoffMs: 1_000, maxBackoffMs: 5_000 } },
      ['recovery.restart: always → no', 'recovery.maxBackoffMs: 60000 → 5000'],
    ],
    [
      'a readiness probe',
      { readiness: { kind: 'tcp', port: 80, ...timing } },
      ['readiness: http :80/health → tcp :80'],
    ],
    [
      'readiness timing',
      { readiness: { kind: 'http', port: 80, path: '/health', ...timing, attempts: 9 } },
      ['readiness changed (http :80/health)'],
    ],
  ])('names %s changes', (_field, change, reasons) => {
    expect(reasonsFor({ ...base, ...change })).toEqual(reasons);
  });

  it('names an added and a removed readiness check', () => {
    const { readiness: _, ...bare } = base;
    expect(diffWorkloads([bare], [base])[0]?.reasons).toEqual(['readiness added (http :80/health)']);
    expect(diffWorkloads([base], [bare])[0]?.reasons).toEqual(['readiness removed']);
  });

  it('falls back to "spec changed" when only the hash differs', () => {
    expect(reasonsFor({ ...base, specHash: 'different' })).toEqual(['spec changed']);
  });

  it('never prints a secret value', () => {
    const next = withSpec(base, {
      environment: { DB_PASSWORD: 'correct horse', MODE: 'prod' },
      files: [{ path: '/etc/app.conf', contents: 'token=new-s3cret', mode: 0o644 }],
      command: ['--password', 'correct horse'],
      labels: { team: 'correct horse' },
    });
    const text = formatPlan(diffWorkloads([base], [next]));
    for (const secret of ['hunter2', 'correct horse', 's3cret']) expect(text).not.toContain(secret);
  });
});

describe('formatPlan', () => {
  it('renders a Terraform-like summary', () => {
    const changes = diffWorkloads(
      [base, makeWorkload('old'), makeWorkload('same')],
      [
        withSpec(base, { image: 'nginx:2', environment: { DB_PASSWORD: 'x', MODE: 'prod' } }),
        makeWorkload('db'),
        makeWorkload('same'),
      ],
    );
    expect(formatPlan(changes)).toMatchInlineSnapshot(`
      "  + ns/app#db
            image: monk-local/busybox:latest
            owner: peer-a
        - ns/app#old
            was on peer-a
        ~ ns/app#web
            image: nginx:1 → nginx:2
            environment.DB_PASSWORD changed

      Plan: 1 to create, 1 to update, 1 to remove (1 unchanged)."
    `);
  });

  it('says when there is nothing to do', () => {
    expect(formatPlan(diffWorkloads([base], [base]))).toMatchInlineSnapshot(`
      "No changes.

      Plan: 0 to create, 0 to update, 0 to remove (1 unchanged)."
    `);
    expect(formatPlan([])).toMatchInlineSnapshot(`
      "No changes.

      Plan: 0 to create, 0 to update, 0 to remove."
    `);
  });
});
