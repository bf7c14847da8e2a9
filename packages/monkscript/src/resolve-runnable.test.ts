import { describe, expect, it } from 'vitest';
import type { ResolvedRunnable } from '@monk/model';
import { createMemoryFileSource } from './file-source.ts';
import { importCompose } from './compose/import-compose.ts';
import { loadDocuments } from './load-documents.ts';
import { loadTemplates } from './load-templates.ts';
import type { ResolveHost } from './resolve-context.ts';
import { resolveDeployment } from './resolve-deployment.ts';
import { createTemplateSource } from './template-source.ts';
import { rejection, testHost } from './test-support.ts';

async function resolve(yaml: string, options: { path?: string; host?: ResolveHost } = {}) {
  const { templates } = await loadTemplates({
    entries: ['/t.yaml'],
    files: createMemoryFileSource({ '/t.yaml': yaml }),
  });
  return resolveDeployment({
    path: options.path ?? 't/app',
    templates: createTemplateSource(templates),
    host: options.host ?? testHost,
    volumeRoot: '/vol',
  });
}

async function single(yaml: string, host?: ResolveHost): Promise<ResolvedRunnable> {
  const [runnable] = (await resolve(yaml, host === undefined ? {} : { host })).runnables;
  if (runnable === undefined) throw new Error('nothing resolved');
  return runnable;
}

/** A host that seals by wrapping, so tests can see exactly what was sealed. */
const sealingHost: ResolveHost = {
  ...testHost,
  sealSecret: (value) => Promise.resolve(`sealed(${value})`),
};

describe('resolveRunnable: keys the Compose importer emits', () => {
  it('maps aliases, init, anonymous volumes and resource limits into the container spec', async () => {
    const runnable = await single(`namespace: t
app:
  defines: runnable
  resources: {limits: {cpus: 0.5, memory: 64M}, reservations: {cpus: 0.1}}
  containers:
    a:
      image: x
      aliases: [db, database, db]
      init: false
      volumes: [/data, '/cache:ro']
`);
    expect(runnable.containers[0]?.spec).toMatchObject({
      aliases: ['db', 'database'],
      init: false,
      resources: { cpus: 0.5, memoryBytes: 64 * 1024 * 1024 },
      mounts: [
        { kind: 'volume', source: '', target: '/data', readOnly: false },
        { kind: 'volume', source: '', target: '/cache', readOnly: true },
      ],
    });
  });

  it('rejects aliases that are no DNS names and volumes that are no paths', async () => {
    const badAlias = await rejection(
      single('namespace: t\napp: {defines: runnable, containers: {a: {image: x, aliases: ["a b"]}}}\n'),
    );
    expect(badAlias.code).toBe('TEMPLATE_INVALID');
    expect(badAlias.message).toContain('"a b" is not a DNS name');
    const badVolume = await rejection(
      single('namespace: t\napp: {defines: runnable, containers: {a: {image: x, volumes: [data]}}}\n'),
    );
    expect(badVolume.message).toContain('anonymous volume');
  });

  it('runs a Compose file whose services reach each other by service name', async () => {
    const imported = await importCompose({
      file: '/shop/compose.yaml',
      contents: `services:
  web:
    image: busybox
    init: true
    mem_limit: 32m
    cpus: 0.25
  db:
    image: busybox
    environment: {WEB: web}
    depends_on: [web]
`,
      files: { readFile: () => Promise.reject(new Error('none')), exists: () => Promise.resolve(false) },
    });
    const { templates } = loadDocuments({ file: '/shop/compose.yaml', documents: imported.documents });
    const deployment = await resolveDeployment({
      path: `${imported.namespace}/${imported.namespace}`,
      templates: createTemplateSource(templates),
      host: testHost,
      volumeRoot: '/vol',
    });
    const web = deployment.runnables.find((runnable) => runnable.path === 'shop/web');
    expect(web?.containers[0]?.spec).toMatchObject({
      aliases: ['web'],
      init: true,
      resources: { cpus: 0.25, memoryBytes: 32 * 1024 * 1024 },
    });
    expect(deployment.runnables.map((runnable) => runnable.path)).toEqual(['shop/web', 'shop/db']);
  });
});

describe('resolveRunnable: placement (resources.requests, affinity)', () => {
  it('reads requests, Compose reservations and Monk affinity into the placement constraints', async () => {
    const runnable = await single(`namespace: t
app:
  defines: runnable
  resources: {limits: {cpus: 2}, requests: {cpus: 0.5, memory: 1G, gpus: 1}}
  affinity: {defines: affinity, tag: edge, name: peer-1, resident: true, ignore-pressure: false}
  containers: {a: {image: x}}
`);
    expect(runnable.placement).toEqual({
      tags: ['edge'],
      peer: 'peer-1',
      resident: true,
      requests: { cpus: 0.5, memoryBytes: 1024 ** 3, gpus: 1 },
    });
    expect(runnable.containers[0]?.spec.resources).toEqual({ cpus: 2 });
    const compose = await single(
      'namespace: t\napp: {defines: runnable, resources: {reservations: {cpus: 0.1}}, containers: {a: {image: x}}}\n',
    );
    expect(compose.placement).toEqual({ requests: { cpus: 0.1 } });
    const plain = await single('namespace: t\napp: {defines: runnable, containers: {a: {image: x}}}\n');
    expect(plain.placement).toBeUndefined();
  });

  it('says where a bad request or affinity is', async () => {
    const gpus = await rejection(
      single(
        'namespace: t\napp: {defines: runnable, resources: {requests: {gpus: 0.5}}, containers: {a: {image: x}}}\n',
      ),
    );
    expect(gpus.message).toMatch(/resources\/requests\/gpus.*whole number/);
    const resident = await rejection(
      single(
        'namespace: t\napp: {defines: runnable, affinity: {resident: maybe}, containers: {a: {image: x}}}\n',
      ),
    );
    expect(resident.message).toMatch(/affinity\/resident.*true or false/);
  });
});

describe('resolveRunnable: hooks', () => {
  it('keeps container-started hooks and warns about events monk does not fire', async () => {
    const deployment = await resolve(`namespace: t
app:
  defines: runnable
  actions: {init: {code: '"ok"'}}
  containers:
    a: {image: x, hooks: {container-started: init, container-stopped: init}}
`);
    expect(deployment.runnables[0]?.containers[0]?.hooks).toEqual({ 'container-started': 'init' });
    expect(deployment.warnings).toEqual([
      't/app: container a hook "container-stopped" is not an event monk fires (container-started); ignored',
    ]);
  });
});

describe('resolveRunnable: secrets stay sealed in the spec', () => {
  const yaml = `namespace: t
app:
  defines: runnable
  permitted-secrets: {pw: true}
  variables:
    password: {type: string, value: <- secret("pw"), env: DB_PASSWORD}
    user: {type: string, value: admin, env: DB_USER}
  containers:
    a:
      image: x
      bash: <- \`serve --password \${password}\`
      environment:
        - <- \`URL=db://admin:\${password}@db\`
        - PLAIN=yes
  files:
    conf:
      container: a
      path: /etc/app.conf
      mode: 0640
      contents: |
        user={{ v "user" }}
        password={{ v "password" }}
    public:
      container: a
      path: /etc/public.conf
      contents: user={{ v "user" }}
  checks:
    readiness:
      code: exec("a", "check", "--user", $user, "--password", $password)
`;

  it('seals every value derived from a secret, and only those', async () => {
    const runnable = await single(yaml, sealingHost);
    const spec = runnable.containers[0]?.spec;
    expect(spec?.environment).toEqual({
      DB_PASSWORD: 'sealed(value-of-pw)',
      DB_USER: 'admin',
      URL: 'sealed(db://admin:value-of-pw@db)',
      PLAIN: 'yes',
    });
    expect(spec?.command).toEqual(['sealed(serve --password value-of-pw)']);
    expect(spec?.files).toEqual([
      { path: '/etc/app.conf', mode: 0o640, contents: 'sealed(user=admin\npassword=value-of-pw\n)' },
      { path: '/etc/public.conf', mode: 0o600, contents: 'user=admin' },
    ]);
    expect(runnable.variables).toEqual({ password: '<secret>', user: 'admin' });
    // The readiness check gets the secret variables sealed, to be unsealed where it runs.
    expect(runnable.readiness).toMatchObject({ variables: { password: 'sealed(value-of-pw)' } });
  });

  it('leaves values as they are without sealSecret', async () => {
    const runnable = await single(yaml);
    expect(runnable.containers[0]?.spec.environment['DB_PASSWORD']).toBe('value-of-pw');
  });
});

describe('resolveRunnable: random-uuid', () => {
  const yaml = `namespace: t
app:
  defines: runnable
  variables:
    password: <- random-uuid
    pair: <- random-uuid " " random-uuid concat-all
  containers: {a: {image: x, environment: {PW: <- $password, ID: <- random-uuid}}}
`;

  it('asks the host for a UUID per call site, so the same instance always gets the same values', async () => {
    const keys: string[] = [];
    const host: ResolveHost = {
      ...testHost,
      randomUuid: (key) => {
        keys.push(key);
        return `uuid:${key}`;
      },
    };
    const first = await single(yaml, host);
    const second = await single(yaml, host);
    expect(first.containers[0]?.spec.environment).toEqual(second.containers[0]?.spec.environment);
    expect(first.variables['password']).toBe('uuid:t/app/variables/password/value#0');
    expect(first.variables['pair']).toBe(
      'uuid:t/app/variables/pair/value#0 uuid:t/app/variables/pair/value#1',
    );
    expect(first.containers[0]?.spec.environment['ID']).toBe('uuid:t/app/containers/a/environment/ID#0');
    expect(new Set(keys).size).toBe(4);
  });

  it('is random without the host method', async () => {
    const first = await single(yaml);
    const second = await single(yaml);
    expect(first.variables['password']).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.variables['password']).not.toBe(second.variables['password']);
  });
});
