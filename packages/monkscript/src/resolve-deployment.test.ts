import { describe, expect, it } from 'vitest';
import type { ResolvedRunnable } from '@monk/model';
import { createMemoryFileSource } from './file-source.ts';
import { evaluateExpression } from './evaluate-expression.ts';
import { loadTemplates } from './load-templates.ts';
import { resolveDeployment } from './resolve-deployment.ts';
import type { ResolveHost } from './resolve-context.ts';
import { createTemplateSource } from './template-source.ts';
import { rejection, testHost } from './test-support.ts';

async function resolve(
  yaml: string,
  options: { path: string; overrides?: Record<string, string>; host?: ResolveHost; strict?: boolean },
) {
  const { templates } = await loadTemplates({
    entries: ['/t.yaml'],
    files: createMemoryFileSource({ '/t.yaml': yaml }),
  });
  return resolveDeployment({
    path: options.path,
    templates: createTemplateSource(templates),
    host: options.host ?? testHost,
    volumeRoot: '/vol',
    ...(options.overrides === undefined ? {} : { overrides: options.overrides }),
    ...(options.strict === undefined ? {} : { strict: options.strict }),
  });
}

async function single(
  yaml: string,
  options: { path?: string; overrides?: Record<string, string>; host?: ResolveHost } = {},
): Promise<ResolvedRunnable> {
  const deployment = await resolve(yaml, { path: 't/app', ...options });
  const [runnable] = deployment.runnables;
  if (runnable === undefined) throw new Error('nothing resolved');
  return runnable;
}

describe('resolveDeployment: containers', () => {
  it('turns bash into a shell entrypoint, or into the arguments of an explicit entrypoint', async () => {
    const runnable = await single(`namespace: t
app:
  defines: runnable
  containers:
    a: {image: x, bash: "echo $HOME && sleep 1"}
    b: {image: x, entrypoint: 'run.sh --flag "two words"', bash: serve}
    c: {image: x, entrypoint: [/bin/app, -v], cmd: 'start now'}
    d: {image: 'registry:5000/img:1.0', image-tag: '2.0', command: [a, b]}
`);
    const specs = Object.fromEntries(runnable.containers.map((container) => [container.key, container.spec]));
    expect(specs['a']).toMatchObject({
      image: 'x',
      entrypoint: ['/bin/sh', '-c'],
      command: ['echo $HOME && sleep 1'],
    });
    expect(specs['b']).toMatchObject({
      entrypoint: ['run.sh', '--flag', 'two words'],
      command: ['/bin/sh', '-c', 'serve'],
    });
    expect(specs['c']).toMatchObject({ entrypoint: ['/bin/app', '-v'], command: ['start', 'now'] });
    expect(specs['d']).toMatchObject({ image: 'registry:5000/img:2.0', command: ['a', 'b'] });
    expect(specs['d']?.entrypoint).toBeUndefined();
  });

  it('builds environment from lists, maps and env-bound variables; the container list wins', async () => {
    const runnable = await single(`namespace: t
app:
  defines: runnable
  variables:
    port: {type: int, value: 80, env: PORT}
    name: {type: string, value: <- "svc-" $port to-s concat, env: NAME}
    unset: {type: string, env: UNSET}
  containers:
    a:
      image: x
      environment: [A=1, "B=x=y", "<- \`C=\${port}\`", PORT=81, EMPTY]
    b:
      image: x
      environment: {M: 1, N: true}
`);
    expect(runnable.containers[0]?.spec.environment).toEqual({
      PORT: '81',
      NAME: 'svc-80',
      A: '1',
      B: 'x=y',
      C: '80',
      EMPTY: '',
    });
    expect(runnable.containers[1]?.spec.environment).toEqual({
      PORT: '80',
      NAME: 'svc-80',
      M: '1',
      N: 'true',
    });
    expect(runnable.variables).toEqual({ port: 80, name: 'svc-80' });
  });

  it('maps ports, paths, services, files and labels', async () => {
    const runnable = await single(`namespace: t
app:
  defines: runnable
  containers:
    a:
      image: x
      ports: [8080, "9000:90", "127.0.0.1:53:53/udp"]
      paths: ["<- \`\${monk-volume-path}/data:/data\`", "/etc/x:/x:ro", "named:/n"]
      labels: ["team=core"]
      workdir: /srv
  services:
    web: {container: a, port: 90, protocol: tcp}
    pub: {port: <- $p, host-port: 8443, protocol: tcp, publish: true}
  variables:
    p: {type: int, value: 443}
  files:
    conf: {path: /etc/app.conf, contents: 'port={{ v "p" }}'}
    raw: {path: /etc/raw, contents: '{{ v "p" }}', raw: true, mode: 0644}
`);
    const spec = runnable.containers[0]?.spec;
    expect(spec?.ports).toEqual([
      { containerPort: 8080, hostPort: 8080, protocol: 'tcp' },
      { hostPort: 9000, containerPort: 90, protocol: 'tcp' },
      { hostIp: '127.0.0.1', hostPort: 53, containerPort: 53, protocol: 'udp' },
      { containerPort: 443, hostPort: 8443, protocol: 'tcp' },
    ]);
    expect(spec?.mounts).toEqual([
      { kind: 'bind', source: '/vol/data', target: '/data', readOnly: false },
      { kind: 'bind', source: '/etc/x', target: '/x', readOnly: true },
      { kind: 'volume', source: 'named', target: '/n', readOnly: false },
    ]);
    expect(spec?.files).toEqual([
      { path: '/etc/app.conf', contents: 'port=443', mode: 0o600 },
      { path: '/etc/raw', contents: '{{ v "p" }}', mode: 0o644 },
    ]);
    expect(spec?.labels).toEqual({ team: 'core' });
    expect(spec?.workingDir).toBe('/srv');
    expect(runnable.services).toEqual([
      { name: 'web', container: 'a', port: 90, protocol: 'tcp', publish: false },
      { name: 'pub', port: 443, hostPort: 8443, protocol: 'tcp', publish: true },
    ]);
  });

  it('names the location of invalid values', async () => {
    const cases: [string, string][] = [
      ['ports: ["99999"]', 'containers/a/ports/0'],
      ['paths: ["nocolon"]', 'containers/a/paths/0'],
      ['image: ""', 'containers/a'],
    ];
    for (const [line, path] of cases) {
      const error = await rejection(
        single(
          `namespace: t\napp:\n  defines: runnable\n  containers:\n    a:\n      image: x\n      ${line}\n`.replace(
            '      image: x\n      image: ""',
            '      image: ""',
          ),
        ),
      );
      expect(error.code, line).toBe('TEMPLATE_INVALID');
      expect(error.location?.path, line).toBe(`t/app/${path}`);
      expect(error.location?.file).toBe('/t.yaml');
    }
    const noContainers = await rejection(single('namespace: t\napp:\n  defines: runnable\n'));
    expect(noContainers.message).toContain('no containers');
    const twoContainers = await rejection(
      single(
        'namespace: t\napp:\n  defines: runnable\n  containers: {a: {image: x}, b: {image: y}}\n  files: {f: {path: /f, contents: x}}\n',
      ),
    );
    expect(twoContainers.message).toContain('name the container');
  });
});

describe('resolveDeployment: error locations', () => {
  it('points into the file of the parent when the bad value was inherited', async () => {
    const files = createMemoryFileSource({
      '/lib.yaml': 'namespace: lib\nbase:\n  containers:\n    a:\n      image: x\n      ports: ["http"]\n',
      '/app.yaml': 'namespace: t\napp:\n  defines: runnable\n  inherits: lib/base\n  variables:\n    v: 1\n',
    });
    const { templates } = await loadTemplates({ entries: ['/lib.yaml', '/app.yaml'], files });
    const error = await rejection(
      resolveDeployment({
        path: 't/app',
        templates: createTemplateSource(templates),
        host: testHost,
        volumeRoot: '/v',
      }),
    );
    expect(error.code).toBe('TEMPLATE_INVALID');
    expect(error.location).toEqual({
      file: '/lib.yaml',
      line: 6,
      column: 15,
      path: 't/app/containers/a/ports/0',
    });
  });
});

describe('resolveDeployment: variables', () => {
  const yaml = `namespace: t
app:
  defines: runnable
  containers: {a: {image: x}}
  variables:
    count: {type: int, value: "3", env: COUNT}
    ratio: {type: float, value: 0.5}
    flag: {type: bool, value: "yes"}
    text: {type: string, value: 12}
    derived: <- $count 2 mul
`;
  it('coerces values to their declared types', async () => {
    const runnable = await single(yaml);
    expect(runnable.variables).toEqual({ count: 3, ratio: 0.5, flag: true, text: '12', derived: 6 });
  });

  it('applies overrides, qualified or bare, with type coercion', async () => {
    expect(
      (await single(yaml, { overrides: { count: '5', 't/app/text': 'hi', extra: 'new' } })).variables,
    ).toMatchObject({ count: 5, text: 'hi', derived: 10, extra: 'new' });
    const error = await rejection(single(yaml, { overrides: { count: 'many' } }));
    expect(error.code).toBe('VARIABLE_INVALID');
    expect(error.message).toContain('count');
    const deployment = await resolve(yaml, { path: 't/app', overrides: { 'other/x/v': '1' } });
    expect(deployment.warnings[0]).toContain('other/x');
  });

  it('warns about --set of a variable the template does not declare, naming it and the ones it has', async () => {
    const deployment = await resolve(yaml, { path: 't/app', overrides: { nosuchvar: '1', count: '4' } });
    expect(deployment.warnings).toEqual([
      '--set nosuchvar: t/app declares no variable "nosuchvar" (its variables: count, derived, flag, ratio, text)',
    ]);
    const qualified = await resolve(yaml, { path: 't/app', overrides: { 't/app/nope': '1' } });
    expect(qualified.warnings).toEqual([
      '--set t/app/nope: t/app declares no variable "nope" (its variables: count, derived, flag, ratio, text)',
    ]);
  });

  it('with strict, refuses --set of an undeclared variable or of a template not in the deployment', async () => {
    const error = await rejection(
      resolve(yaml, { path: 't/app', overrides: { nosuchvar: '1' }, strict: true }),
    );
    expect(error.code).toBe('VARIABLE_UNKNOWN');
    expect(error.message).toBe(
      '--set nosuchvar: t/app declares no variable "nosuchvar" (its variables: count, derived, flag, ratio, text)',
    );
    expect(error.details).toEqual({ variables: ['nosuchvar'] });
    const elsewhere = await rejection(
      resolve(yaml, { path: 't/app', overrides: { 'other/x/v': '1' }, strict: true }),
    );
    expect(elsewhere.message).toBe('--set other/x/v: other/x is not part of t/app; ignored');
    expect(
      (await resolve(yaml, { path: 't/app', overrides: { count: '4', 't/app/text': 'x' }, strict: true }))
        .warnings,
    ).toEqual([]);
  });

  it('on a group, points a --set at the member that declares the variable', async () => {
    const groups = `namespace: t
stack:
  defines: process-group
  runnable-list: [t/app, t/db]
  variables: {region: eu}
app:
  defines: runnable
  containers: {a: {image: x}}
  variables: {greeting: hello}
db:
  defines: runnable
  containers: {d: {image: x}}
`;
    const deployment = await resolve(groups, {
      path: 't/stack',
      overrides: { region: 'us', greeting: 'hi', 't/db/region': 'ap' },
    });
    expect(deployment.warnings).toEqual([
      '--set greeting: t/stack declares no variable "greeting" (its variables: region); t/app declares it: use --set t/app/greeting=VALUE',
    ]);
  });

  it('does not warn about --set of a variable a member reads without declaring it ($name default(…))', async () => {
    const kit = `namespace: t
stack:
  defines: process-group
  runnable-list: [t/db]
db:
  defines: runnable
  containers: {d: {image: "<- \`mysql:\${mysql-image-tag}\`"}}
  variables:
    password: {value: <- $db_pass default("changeme"), env: PASSWORD}
`;
    const deployment = await resolve(kit, {
      path: 't/stack',
      overrides: { db_pass: 's3cret', 'mysql-image-tag': '8.4', mysql: '1' },
      strict: false,
    });
    expect(deployment.runnables[0]?.containers[0]?.spec.environment).toEqual({ PASSWORD: 's3cret' });
    expect(deployment.runnables[0]?.containers[0]?.spec.image).toBe('mysql:8.4');
    expect(deployment.warnings).toEqual([
      '--set mysql: t/stack declares no variable "mysql" (it declares none)',
    ]);
  });

  it('requires required variables', async () => {
    const error = await rejection(
      single(
        'namespace: t\napp:\n  defines: runnable\n  containers: {a: {image: x}}\n  variables:\n    token: {type: string, required: true}\n',
      ),
    );
    expect(error.code).toBe('VARIABLE_REQUIRED');
    expect(error.location?.path).toBe('t/app/variables/token/value');
  });

  it('names a cycle between variables', async () => {
    const error = await rejection(
      single(
        'namespace: t\napp:\n  defines: runnable\n  containers: {a: {image: x}}\n  variables:\n    a: <- $b\n    b: <- $a\n',
      ),
    );
    expect(error.code).toBe('VARIABLE_INVALID');
    expect(error.message).toMatch(/t\/app#a → t\/app#b → t\/app#a|t\/app#b → t\/app#a → t\/app#b/);
  });

  it('shows group variables to members, a member variable shadowing the group, nested groups', async () => {
    const deployment = await resolve(
      `namespace: t
outer:
  defines: group
  members: [t/inner]
  variables: {region: eu, size: outer}
inner:
  defines: process-group
  runnable-list: [t/app]
  variables:
    size: {value: inner, env: SIZE}
    greeting: <- \`hi \${region}\`
app:
  defines: runnable
  containers: {a: {image: "<- \`img-\${size}\`"}}
  variables:
    region: {value: us, env: REGION}
    text: <- $greeting
`,
      { path: 't/outer' },
    );
    const [runnable] = deployment.runnables;
    expect(runnable?.containers[0]?.spec.image).toBe('img-inner');
    expect(runnable?.containers[0]?.spec.environment).toEqual({ SIZE: 'inner', REGION: 'us' });
    expect(runnable?.variables).toMatchObject({ region: 'us', size: 'inner', text: 'hi eu' });
  });
});

describe('resolveDeployment: connections and secrets', () => {
  const yaml = `namespace: t
db:
  defines: runnable
  containers: {pg: {image: postgres}}
  variables: {port: {type: int, value: 5433}}
  services: {sql: {port: <- $port, protocol: tcp}}
app:
  defines: runnable
  containers: {a: {image: x}}
  permitted-secrets: {token: true}
  connections:
    database: {runnable: t/db, service: sql}
    later: {optional: true}
  variables:
    url: <- \`pg://\${host}:\${port}\`
    host: <- connection-hostname("database")
    port: <- connection-port("database")
    none: <- connection-hostname("later")
    token: {type: string, value: <- secret("token"), env: TOKEN}
    bearer: <- "Bearer " $token concat
`;
  it('resolves connection hostnames and ports through the host; secrets reach env but not variables', async () => {
    const runnable = await single(yaml);
    expect(runnable.connections).toEqual({ database: 't/db' });
    expect(runnable.variables).toEqual({
      url: 'pg://t-db:5433',
      host: 't-db',
      port: 5433,
      none: '',
      token: '<secret>',
      bearer: '<secret>',
    });
    expect(runnable.containers[0]?.spec.environment).toEqual({ TOKEN: 'value-of-token' });
  });

  it('refuses secrets not listed in permitted-secrets, and unknown connections', async () => {
    const notPermitted = await rejection(single(yaml.replace('{token: true}', '{other: true}')));
    expect(notPermitted.code).toBe('SECRET_NOT_PERMITTED');
    const noSecrets = await rejection(single(yaml, { host: { hostnameOf: (path) => path } }));
    expect(noSecrets.code).toBe('SECRET_NOT_FOUND');
    const unknown = await rejection(
      single(yaml.replace('connection-hostname("later")', 'connection-hostname("nope")')),
    );
    expect(unknown.code).toBe('ARROW_EVAL');
    expect(unknown.message).toContain('nope');
  });
});

describe('resolveDeployment: container names and addresses through the host', () => {
  const yaml = `namespace: t
db:
  defines: runnable
  containers: {pg: {image: postgres}}
app:
  defines: runnable
  containers: {a: {image: x}}
  variables:
    runnable-host: <- get-hostname("t/db", "pg")
    relative-host: <- get-hostname("db", "pg")
    ip: <- get-container-ip("db", "pg")
`;
  it('asks the host for the container-level name and address of a runnable, relative paths resolved', async () => {
    const runnable = await single(yaml, {
      host: {
        hostnameOf: (path) => `runnable:${path}`,
        containerHostnameOf: (path, container) => `${container}.${path}`,
        containerIpOf: async (path, container) => `ip-of-${container}.${path}`,
      },
    });
    expect(runnable.variables).toMatchObject({
      'runnable-host': 'pg.t/db',
      'relative-host': 'pg.t/db',
      ip: 'ip-of-pg.t/db',
    });
  });

  it('falls back to the runnable name, and refuses get-container-ip, when the host has neither', async () => {
    const withoutIp = yaml.replace(/ {4}ip: .*\n/, '');
    const runnable = await single(withoutIp, { host: { hostnameOf: (path) => `runnable:${path}` } });
    expect(runnable.variables).toMatchObject({ 'runnable-host': 'runnable:t/db' });
    const refused = await rejection(single(yaml, { host: { hostnameOf: (path) => path } }));
    expect(refused.code).toBe('ARROW_EVAL');
    expect(refused.message).toContain('get-container-ip');
  });
});

describe('resolveDeployment: checks, recovery, order, kept sections', () => {
  it('fills readiness defaults and maps recovery', async () => {
    const runnable = await single(`namespace: t
app:
  defines: runnable
  containers: {a: {image: x, restart: on-failure}}
  checks:
    readiness:
      code: exec("a", "true")
  scale: 3
`);
    expect(runnable.readiness).toEqual({
      kind: 'arrow',
      code: 'exec("a", "true")',
      runnable: 't/app',
      initialDelaySeconds: 0,
      periodSeconds: 5,
      timeoutSeconds: 10,
      attempts: 10,
    });
    expect(runnable.recovery.restart).toBe('on-failure');
    expect(runnable.scale).toBe(3);
    const none = await single(
      'namespace: t\napp:\n  defines: runnable\n  containers: {a: {image: x}}\n  recovery: {when: none}\n',
    );
    expect(none.recovery.restart).toBe('no');
    expect(none.readiness).toBeUndefined();
  });

  it('takes readiness code as a script without <-, or computes it with <- `…` (the postgresql kit form)', async () => {
    const check = async (code: string): Promise<unknown> => {
      const runnable = await single(`namespace: t
app:
  defines: runnable
  variables: {user: monk}
  containers: {a: {image: x}}
  checks:
    readiness:
      code: ${code}
`);
      return runnable.readiness?.kind === 'arrow' ? runnable.readiness.code : undefined;
    };
    expect(await check('exec("a", "pg_isready") contains?("accepting")')).toBe(
      'exec("a", "pg_isready") contains?("accepting")',
    );
    expect(await check('<- `exec("a", "pg_isready", "-U", "${user}") contains?("accepting")`')).toBe(
      'exec("a", "pg_isready", "-U", "monk") contains?("accepting")',
    );
    const computedBad = await rejection(check('<- `exec("a" "b`'));
    expect(computedBad.code).toBe('ARROW_SYNTAX');
    expect(computedBad.location?.path).toBe('t/app/checks/readiness/code');
  });

  it('resolves a liveness check like a readiness check, with its own timing', async () => {
    const runnable = await single(`namespace: t
app:
  defines: runnable
  containers: {a: {image: x}}
  checks:
    liveness:
      code: exec("a", "/bin/healthy")
      period: 3
      initialDelay: 7
      attempts: 2
`);
    expect(runnable.liveness).toEqual({
      kind: 'arrow',
      code: 'exec("a", "/bin/healthy")',
      runnable: 't/app',
      initialDelaySeconds: 7,
      periodSeconds: 3,
      timeoutSeconds: 10,
      attempts: 2,
    });
    expect(runnable.readiness).toBeUndefined();
    const error = await rejection(
      single(
        'namespace: t\napp:\n  defines: runnable\n  containers: {a: {image: x}}\n  checks:\n    liveness: {period: 3}\n',
      ),
    );
    expect(error.message).toContain('liveness needs code');
  });

  it('resolves recovery when, after and mode as Monk documents them', async () => {
    const recovery = async (section: string) =>
      (
        await single(
          `namespace: t\napp:\n  defines: runnable\n  containers: {a: {image: x}}\n  recovery: ${section}\n`,
        )
      ).recovery;
    expect(await recovery('{when: always, after: 60s, mode: cluster}')).toMatchObject({
      restart: 'always',
      when: 'always',
      afterMs: 60_000,
      mode: 'cluster',
    });
    expect(await recovery('{when: container-failure, after: 1m30s}')).toMatchObject({
      restart: 'always',
      when: 'container-failure',
      afterMs: 90_000,
    });
    expect(await recovery('{when: node-failure, after: 15}')).toMatchObject({
      restart: 'no',
      when: 'node-failure',
      afterMs: 15_000,
    });
    expect(await recovery('{when: none}')).toMatchObject({ restart: 'no', when: 'none' });
    const bad = await rejection(recovery('{when: sometimes}'));
    expect(bad.code).toBe('TEMPLATE_INVALID');
    expect(bad.message).toContain('"sometimes" is not one of always, node-failure, container-failure, none');
    expect(bad.location?.path).toBe('t/app/recovery/when');
    const badAfter = await rejection(recovery('{after: soon}'));
    expect(badAfter.message).toContain('"soon" is not a duration');
    const badMode = await rejection(recovery('{mode: anywhere}'));
    expect(badMode.message).toContain('"anywhere" is not one of default, node, cluster');
  });

  it('warns that node-pressure recovery is not watched, and recovers nothing then', async () => {
    const deployment = await resolve(
      'namespace: t\napp:\n  defines: runnable\n  containers: {a: {image: x}}\n  recovery: {when: memory-pressure}\n',
      { path: 't/app' },
    );
    expect(deployment.runnables[0]?.recovery).toMatchObject({ restart: 'no', when: 'none' });
    expect(deployment.warnings).toEqual([
      't/app: recovery when "memory-pressure" is not supported (monk does not watch node pressure); the runnable is not recovered',
    ]);
  });

  it('refuses a wait-for timeout that is not a duration', async () => {
    const error = await rejection(
      single(
        'namespace: t\nb: {defines: runnable, containers: {a: {image: x}}}\napp:\n  defines: runnable\n  containers: {a: {image: x}}\n  depends: {wait-for: {runnables: [t/b], timeout: 0}}\n',
      ),
    );
    expect(error.code).toBe('TEMPLATE_INVALID');
    expect(error.message).toContain('depends/wait-for/timeout');
  });

  it('refuses readiness code that does not parse, naming where', async () => {
    const error = await rejection(
      single(
        'namespace: t\napp:\n  defines: runnable\n  containers: {a: {image: x}}\n  checks:\n    readiness:\n      code: exec("a" "b\n',
      ),
    );
    expect(error.code).toBe('ARROW_SYNTAX');
    expect(error.location?.path).toBe('t/app/checks/readiness/code');
  });

  it('orders runnables so what one waits for comes first, and names a wait cycle', async () => {
    const group = `namespace: t
g:
  defines: process-group
  runnable-list: [t/c, t/b, t/a]
a: {defines: runnable, containers: {x: {image: x}}}
b: {defines: runnable, containers: {x: {image: x}}, depends: {wait-for: {runnables: [t/a]}}}
c: {defines: runnable, containers: {x: {image: x}}, depends: {wait-for: {runnables: [./b, /t/a]}}}
`;
    const deployment = await resolve(group, { path: 't/g' });
    expect(deployment.runnables.map((runnable) => runnable.path)).toEqual(['t/a', 't/b', 't/c']);
    expect(deployment.runnables[2]?.dependsOn).toEqual(['t/b', 't/a']);
    const error = await rejection(
      resolve(
        `${group}d: {defines: runnable, containers: {x: {image: x}}, depends: {wait-for: {runnables: [t/e]}}}\ne: {defines: runnable, containers: {x: {image: x}}, depends: {wait-for: {runnables: [t/d]}}}\nh: {defines: group, members: [t/d, t/e]}\n`,
        { path: 't/h' },
      ),
    );
    expect(error.code).toBe('TEMPLATE_CYCLE');
  });

  it('keeps sections it does not interpret yet, and skips members it cannot run', async () => {
    const deployment = await resolve(
      `namespace: t
kind: {defines: entity}
thing: {defines: t/kind}
g:
  defines: group
  members: [t/app, t/thing]
  balancers: {lb: {type: tcp, port: 80}}
app:
  defines: runnable
  affinity: {tag: edge}
  actions: {hello: {code: '"hi"'}}
  containers: {a: {image: x, hooks: {container-started: hello}}}
  services: {web: {port: 80, ingress-routes: {r: {path-prefix: /}}}}
  depends: {wait-for: {runnables: [], timeout: 30}}
`,
      { path: 't/g' },
    );
    expect(deployment.sections['t/app']).toEqual({
      actions: { hello: { code: '"hi"' } },
      'service-extras': { web: { 'ingress-routes': { r: { 'path-prefix': '/' } } } },
    });
    expect(deployment.runnables.find((r) => r.path === 't/app')?.waitForTimeoutSeconds).toBe(30);
    // affinity is interpreted now: it places the runnable.
    expect(deployment.runnables.find((r) => r.path === 't/app')?.placement?.tags).toEqual(['edge']);
    expect(deployment.runnables[0]?.containers[0]?.hooks).toEqual({ 'container-started': 'hello' });
    expect(deployment.sections['t/g']).toEqual({ balancers: { lb: { type: 'tcp', port: 80 } } });
    expect(deployment.warnings).toEqual([
      't/thing is a entity-instance; monk does not run entity-instances yet, so it is left out',
    ]);
  });

  it('ignores a top-level readiness (a quirk of some kits) with a warning; a block inheriting a runnable is one', async () => {
    const deployment = await resolve(
      'namespace: t\nbase: {defines: runnable, containers: {a: {image: x}}}\napp:\n  inherits: t/base\n  readiness: {code: "true"}\n',
      { path: 't/app' },
    );
    expect(deployment.kind).toBe('runnable');
    expect(deployment.runnables[0]?.readiness).toBeUndefined();
    expect(deployment.warnings).toEqual([
      't/app: a top-level "readiness:" is ignored; readiness checks go under "checks:"',
    ]);
  });

  it('refuses to run what is not runnable, and names what is missing', async () => {
    const yaml =
      'namespace: t\nbase: {containers: {a: {image: x}}}\napp: {defines: runnable, inherits: hub/base}\n';
    expect((await rejection(resolve(yaml, { path: 't/base' }))).code).toBe('TEMPLATE_INVALID');
    expect((await rejection(resolve(yaml, { path: 't/none' }))).details).toEqual({
      path: 't/none',
      missing: ['t/none'],
    });
    expect((await rejection(resolve(yaml, { path: 't/app' }))).details).toEqual({
      path: 't/app',
      missing: ['hub/base'],
    });
    expect((await rejection(resolve(yaml, { path: 'nopath' }))).code).toBe('INVALID_REQUEST');
  });
});

describe('evaluateExpression', () => {
  it('evaluates code with or without <- against variables and a host', async () => {
    const host = {
      exec: (_container: string, command: string[]) => Promise.resolve(`ran ${command.join(' ')}`),
    };
    expect(
      await evaluateExpression({ code: 'exec("db", "pg_isready") contains?("ran")', variables: {}, host }),
    ).toBe(true);
    expect(
      await evaluateExpression({ code: '<- $user default("x")', variables: { user: 'monk' }, host: {} }),
    ).toBe('monk');
    expect(await evaluateExpression({ code: '$missing default("x")', variables: {}, host: {} })).toBe('x');
    const error = await rejection(evaluateExpression({ code: 'exec(', variables: {}, host: {} }));
    expect(error.code).toBe('ARROW_SYNTAX');
  });
});
