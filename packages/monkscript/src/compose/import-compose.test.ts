import { beforeAll, describe, expect, it } from 'vitest';
import { importCompose, normalizeProjectName, type ImportComposeOptions } from './import-compose.ts';
import { containerOf, documentOf, loadSchema, memoryFiles, runnableNames, runnableOf } from './test-files.ts';

let schema: object;
beforeAll(async () => {
  schema = await loadSchema();
});

const file = '/srv/My Project/compose.yaml';

function load(
  contents: string,
  options: Partial<Omit<ImportComposeOptions, 'files'>> & { files?: Record<string, string> } = {},
): ReturnType<typeof importCompose> {
  const { files, ...rest } = options;
  return importCompose({ file, contents, files: memoryFiles(files), schema, ...rest });
}

function warningLines(result: { warnings: { service?: string; key: string; message: string }[] }): string[] {
  return result.warnings.map((warning) => `${warning.service ?? '-'} ${warning.key}: ${warning.message}`);
}

const invalid = (text: string): unknown =>
  expect.objectContaining({ code: 'COMPOSE_INVALID', message: expect.stringContaining(text) as unknown });

describe('project and document', () => {
  it('names the namespace after the folder and lists runnables in a process-group', async () => {
    const result = await load('services:\n  web:\n    image: nginx\n');
    expect(result.namespace).toBe('myproject');
    expect(documentOf(result)).toEqual({
      namespace: 'myproject',
      web: {
        defines: 'runnable',
        containers: { web: { image: 'nginx', 'image-tag': 'latest', aliases: ['web'], restart: 'no' } },
      },
      myproject: { defines: 'process-group', 'runnable-list': ['myproject/web'] },
    });
    expect(result.warnings).toEqual([]);
  });

  it.each([
    [{ projectName: 'Explicit.Name' }, '', 'explicitname'],
    [{ environment: { COMPOSE_PROJECT_NAME: 'from-env' } }, 'name: from-file\n', 'from-env'],
    [{}, 'name: from-file\n', 'from-file'],
  ])('takes the project name from %j', async (options, prefix, namespace) => {
    const result = await load(`${prefix}services:\n  web:\n    image: nginx\n`, options);
    expect(result.namespace).toBe(namespace);
  });

  it.each([
    ['My_Project', 'my_project'],
    ['--a.b c', 'abc'],
    ['Ünïcode-1', 'ncode-1'],
  ])('normalises %j to %j', (name, expected) => {
    expect(normalizeProjectName(name)).toBe(expected);
  });

  it('renames the group when a service is named like the project, and a service named namespace', async () => {
    const result = await load('services:\n  app:\n    image: a\n  namespace:\n    image: b\n', {
      projectName: 'app',
    });
    expect(runnableNames(result)).toEqual(['app', 'namespace-service']);
    expect(documentOf(result)['app-stack']).toEqual({
      defines: 'process-group',
      'runnable-list': ['app/app', 'app/namespace-service'],
    });
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "namespace name: a runnable cannot be called namespace; it is namespace-service",
        "- name: a service is named like the project, so the process-group is app/app-stack",
      ]
    `);
  });
});

describe('YAML and interpolation', () => {
  it('resolves anchors and merge keys, drops x- fields and warns about version', async () => {
    const result = await load(
      [
        "version: '3.7'",
        'x-common: &common',
        '  restart: always',
        '  environment:',
        '    SHARED: "1"',
        'services:',
        '  web:',
        '    <<: *common',
        '    image: nginx',
        '    x-note: ignored',
      ].join('\n'),
    );
    expect(containerOf(result, 'web')).toMatchObject({ restart: 'always', environment: ['SHARED=1'] });
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "- version: the top-level version is obsolete and ignored",
      ]
    `);
  });

  it('interpolates from the .env beside the file, overridden by the environment given', async () => {
    const result = await load(
      'services:\n  web:\n    image: "${IMAGE}:${TAG:-latest}"\n    command: echo $$HOME ${GREETING}\n',
      {
        files: { '/srv/My Project/.env': 'IMAGE=from-dotenv\nTAG=1.0\nGREETING=hi' },
        environment: { TAG: '2.0' },
      },
    );
    expect(containerOf(result, 'web')).toMatchObject({
      image: 'from-dotenv',
      'image-tag': '2.0',
      cmd: ['echo', '$HOME', 'hi'],
    });
  });

  it('warns once per unset variable', async () => {
    const result = await load(
      'services:\n  web:\n    image: "nginx${SUFFIX}"\n    environment:\n      - A=${SUFFIX}\n',
    );
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "web image: SUFFIX is not set; it is replaced by an empty string",
      ]
    `);
  });

  it('names the unset variable when the empty value it left is invalid (PLEX_MEDIA_PATH is not set)', async () => {
    const error = await load(
      'services:\n  plex:\n    image: plexinc/pms-docker\n    volumes:\n      - ${PLEX_MEDIA_PATH}:/data\n    environment:\n      TZ: ${TZ}\n',
    ).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({
      code: 'COMPOSE_INVALID',
      message:
        '/srv/My Project/compose.yaml: services.plex.volumes[0]: invalid volume ":/data": empty section between colons (PLEX_MEDIA_PATH is not set; it was replaced by an empty string)',
      details: { key: 'services.plex.volumes[0]', unset: ['PLEX_MEDIA_PATH'] },
    });
  });

  it.each([
    [
      'services:\n  web:\n    image: ${IMAGE:?set IMAGE first}\n',
      'compose.yaml:3: services.web.image: required variable IMAGE is missing a value: set IMAGE first',
    ],
    ['services:\n  web:\n    image: ${BROKEN\n', 'invalid interpolation format'],
    ['services:\n  web:\n    image: a\n    image: b\n', 'compose.yaml:4'],
    ['services:\n  web: [unclosed\n', 'compose.yaml:'],
    ['', 'empty compose file'],
    ['- a\n- b\n', 'must be a mapping'],
  ])('rejects %j', async (contents, message) => {
    await expect(load(contents)).rejects.toThrow(invalid(message));
  });

  it('reports schema violations with file, line and key path', async () => {
    const error: unknown = await load(
      'services:\n  web:\n    image: nginx\n    ports:\n      - target: 80\n        bogus: 1\n',
    ).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'COMPOSE_INVALID',
      message: '/srv/My Project/compose.yaml:6: services.web.ports.0.bogus is not a known Compose key',
      location: { file: '/srv/My Project/compose.yaml', line: 6, path: 'services/web/ports/0/bogus' },
    });
    await expect(load('services:\n  web:\n    image: [1]\n')).rejects.toThrow(
      invalid('services.web.image must be string'),
    );
    await expect(load('services:\n  web:\n    restart: 5\n    image: a\n')).rejects.toThrow(
      invalid('compose.yaml:3'),
    );
  });

  it('quotes values that MonkScript would read as Arrow scripts', async () => {
    const result = await load(
      'services:\n  web:\n    image: nginx\n    command: ["<- not arrow"]\n    labels:\n      a: "<- x"\n',
    );
    expect(containerOf(result, 'web')).toMatchObject({
      cmd: ['<- "<- not arrow"'],
      labels: { a: '<- "<- x"' },
    });
  });

  it('reads go-yaml octal file modes', async () => {
    const result = await load(
      'services:\n  web:\n    image: nginx\n    configs:\n      - source: c\n        mode: 0440\nconfigs:\n  c:\n    content: hello\n',
    );
    expect(runnableOf(result, 'web').files).toEqual({
      'config-c': { container: 'web', path: '/c', contents: 'hello', mode: 0o440 },
    });
  });
});

describe('containers', () => {
  it.each([
    ['nginx', { image: 'nginx', 'image-tag': 'latest' }],
    ['nginx:1.25-alpine', { image: 'nginx', 'image-tag': '1.25-alpine' }],
    ['registry.local:5000/team/app', { image: 'registry.local:5000/team/app', 'image-tag': 'latest' }],
    ['registry.local:5000/team/app:v2', { image: 'registry.local:5000/team/app', 'image-tag': 'v2' }],
    ['app@sha256:abcd', { image: 'app@sha256:abcd' }],
  ])('splits image %j', async (image, expected) => {
    const result = await load(`services:\n  web:\n    image: "${image}"\n`);
    const container = containerOf(result, 'web');
    expect({ image: container.image, 'image-tag': container['image-tag'] }).toEqual({
      'image-tag': undefined,
      ...expected,
    });
  });

  it('names the image of a build-only service <project>-<service> and warns', async () => {
    const result = await load(
      'services:\n  api:\n    build: ./api\n  web:\n    image: nginx\n    build: .\n',
    );
    expect(containerOf(result, 'api')).toMatchObject({ image: 'myproject-api', 'image-tag': 'latest' });
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "api build: monk does not build images: build this one as myproject-api:latest (for example with \`docker compose build\`) and make it available on every host that may run api",
        "web build: monk does not build images; it runs the image nginx",
      ]
    `);
  });

  it('rejects a service with neither image nor build', async () => {
    await expect(load('services:\n  web:\n    restart: always\n')).rejects.toThrow(
      invalid('neither an image nor a build'),
    );
  });

  it('splits string commands and keeps lists', async () => {
    const result = await load(
      [
        'services:',
        '  a:',
        '    image: x',
        `    command: sh -c 'echo "hi there"'`,
        '    entrypoint: ["/bin/tini", "--"]',
        '  b:',
        '    image: x',
        '    entrypoint: ""',
        '    command: [--flag=1, "two words"]',
      ].join('\n'),
    );
    expect(containerOf(result, 'a')).toMatchObject({
      cmd: ['sh', '-c', 'echo "hi there"'],
      entrypoint: ['/bin/tini', '--'],
    });
    expect(containerOf(result, 'b')).toMatchObject({ cmd: ['--flag=1', 'two words'], entrypoint: [] });
  });

  it('maps environment lists, maps, dotted keys, bare keys and env files', async () => {
    const result = await load(
      [
        'services:',
        '  a:',
        '    image: x',
        '    env_file:',
        '      - common.env',
        '      - path: ./missing.env',
        '        required: false',
        '    environment:',
        '      discovery.type: single-node',
        '      NUMBER: 3',
        '      FLAG: true',
        '      FROM_HOST:',
        '      NOT_SET:',
        '      OVERRIDDEN: by-environment',
        '  b:',
        '    image: x',
        '    env_file: common.env',
        '    environment:',
        '      - LIST=a=b',
        '      - FROM_HOST',
      ].join('\n'),
      {
        files: { '/srv/My Project/common.env': 'OVERRIDDEN=by-file\nFILE_ONLY=${FROM_HOST}-x' },
        environment: { FROM_HOST: 'host' },
      },
    );
    expect(containerOf(result, 'a').environment).toEqual([
      'OVERRIDDEN=by-environment',
      'FILE_ONLY=host-x',
      'discovery.type=single-node',
      'NUMBER=3',
      'FLAG=true',
      'FROM_HOST=host',
    ]);
    expect(containerOf(result, 'b').environment).toEqual([
      'OVERRIDDEN=by-file',
      'FILE_ONLY=host-x',
      'LIST=a=b',
      'FROM_HOST=host',
    ]);
  });

  it('rejects a missing required env file', async () => {
    await expect(load('services:\n  a:\n    image: x\n    env_file: nope.env\n')).rejects.toThrow(
      invalid('services.a.env_file[0]: env file /srv/My Project/nope.env not found'),
    );
  });

  it('maps ports and expose to published ports and services', async () => {
    const result = await load(
      [
        'services:',
        '  web:',
        '    image: x',
        '    ports:',
        '      - 8000:8000',
        '      - "127.0.0.1:8001:8001"',
        '      - "[::1]:6001:6001"',
        '      - 6060:6060/udp',
        '      - "9090-9091:8080-8081"',
        '      - "3000"',
        '      - target: 443',
        '        published: "8443"',
        '        host_ip: 0.0.0.0',
        '        protocol: tcp',
        '        name: https',
        '        app_protocol: https',
        '    expose: [9000, "9100/udp"]',
      ].join('\n'),
    );
    const runnable = runnableOf(result, 'web');
    expect(containerOf(result, 'web').ports).toEqual([
      '8000:8000/tcp',
      '127.0.0.1:8001:8001/tcp',
      '[::1]:6001:6001/tcp',
      '6060:6060/udp',
      '9090:8080/tcp',
      '9091:8081/tcp',
      '0.0.0.0:8443:443/tcp',
    ]);
    expect(
      Object.entries(runnable.services ?? {}).map(([name, s]) => `${name} ${s.port}/${s.protocol}`),
    ).toEqual([
      'port-8000 8000/tcp',
      'port-8001 8001/tcp',
      'port-6001 6001/tcp',
      'port-6060-udp 6060/udp',
      'port-8080 8080/tcp',
      'port-8081 8081/tcp',
      'port-3000 3000/tcp',
      'https 443/tcp',
      'port-9000 9000/tcp',
      'port-9100-udp 9100/udp',
    ]);
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "web ports[5]: Compose publishes this port on a random host port; monk does not pick random host ports, so it is reachable only from the other services",
        "web ports[6]: app_protocol https is not used by monk",
      ]
    `);
  });

  it('maps volumes: named, binds, ~, anonymous, read-only and options', async () => {
    const result = await load(
      [
        'services:',
        '  db:',
        '    image: x',
        '    volumes:',
        '      - data:/var/lib/db',
        '      - ./conf:/etc/conf:ro',
        '      - ~/cache:/cache',
        '      - /var/run/docker.sock:/var/run/docker.sock',
        '      - /anonymous',
        '      - data:/snap:roz',
        '      - type: bind',
        '        source: ../shared',
        '        target: /shared',
        '        read_only: true',
        '        bind:',
        '          propagation: rshared',
        '      - type: tmpfs',
        '        target: /tmp',
        'volumes:',
        '  data:',
        '    driver: local',
      ].join('\n'),
      { homeDir: '/home/me' },
    );
    expect(containerOf(result, 'db')).toMatchObject({
      paths: [
        '<- `${monk-volume-path}/myproject/data:/var/lib/db`',
        '/srv/My Project/conf:/etc/conf:ro',
        '/home/me/cache:/cache',
        '/var/run/docker.sock:/var/run/docker.sock',
        '<- `${monk-volume-path}/myproject/data:/snap`',
        '/srv/shared:/shared:ro',
      ],
      volumes: ['/anonymous'],
    });
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "- volumes.data.driver: monk keeps named volumes as folders under \${monk-volume-path} on the host that runs the service; volume settings are ignored",
        "db volumes: relative bind sources are resolved against the Compose file's folder (/srv/My Project); those paths must exist on every host that may run db",
        "db volumes[5]: volume option roz is not applied (SELinux relabelling is not supported; Compose itself ignores a combined "roz"), the mount is read-write",
        "db volumes[6]: volume option bind.propagation is not applied",
        "db volumes[7]: tmpfs mounts are not supported by monk; /tmp is left out",
      ]
    `);
  });

  it('rejects undefined volumes and empty volume sections', async () => {
    await expect(load('services:\n  a:\n    image: x\n    volumes: [nope:/data]\n')).rejects.toThrow(
      invalid('services.a.volumes[0]: refers to undefined volume nope'),
    );
    await expect(load('services:\n  a:\n    image: x\n    volumes: ["${UNSET}:/media/"]\n')).rejects.toThrow(
      invalid('empty section between colons'),
    );
  });

  it('maps restart, container_name, labels, init, privileged, cap_add, working_dir and user', async () => {
    const result = await load(
      [
        'services:',
        '  a:',
        '    image: x',
        '    restart: on-failure:3',
        '    container_name: custom',
        '    labels: ["traefik.http.routers.go.rule=Path(`/`)", "bare"]',
        '    init: true',
        '    privileged: true',
        '    cap_add: [NET_ADMIN]',
        '    working_dir: /app',
        '    user: "1000:1000"',
        '  b:',
        '    image: x',
        '    restart: unless-stopped',
        '    deploy:',
        '      restart_policy:',
        '        condition: any',
        '  c:',
        '    image: x',
        '    deploy:',
        '      restart_policy:',
        '        condition: any',
        '        max_attempts: 3',
      ].join('\n'),
    );
    expect(containerOf(result, 'a')).toEqual({
      image: 'x',
      'image-tag': 'latest',
      aliases: ['a', 'custom'],
      'container-name': 'custom',
      labels: { 'traefik.http.routers.go.rule': 'Path(`/`)', bare: '' },
      init: true,
      privileged: true,
      'cap-add': ['NET_ADMIN'],
      'working-dir': '/app',
      user: '1000:1000',
      restart: 'on-failure',
    });
    expect(containerOf(result, 'b').restart).toBe('unless-stopped');
    expect(containerOf(result, 'c').restart).toBe('always');
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "a restart: monk does not limit restarts to 3",
        "c deploy.restart_policy.max_attempts: monk restarts with its own exponential back-off",
      ]
    `);
  });

  it('warns about every key monk does not support, naming the service', async () => {
    const result = await load(
      [
        'services:',
        '  a:',
        '    image: x',
        '    sysctls: [net.core.somaxconn=1024]',
        '    ulimits: {nofile: {soft: 1, hard: 2}}',
        '    network_mode: host',
        '    tmpfs: /tmp',
        '    pid: host',
        '    security_opt: [no-new-privileges]',
        '    logging: {driver: json-file}',
        '    stop_grace_period: 1m30s',
        '    shm_size: 2gb',
        '    read_only: true',
        '    platform: linux/amd64',
        '    attach: false',
        '    dns: 1.1.1.1',
        '    stdin_open: true',
        '    links: [b]',
        '  b:',
        '    image: x',
        '    networks:',
        '      default:',
        '        ipv4_address: 10.0.0.5',
        '        aliases: [bee]',
      ].join('\n'),
    );
    expect(containerOf(result, 'b').aliases).toEqual(['b', 'bee']);
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "a network_mode: network_mode host is not supported: monk attaches every container to its workload network",
        "a sysctls: monk does not support sysctls yet; it is ignored",
        "a ulimits: monk does not support ulimits yet; it is ignored",
        "a tmpfs: monk does not support tmpfs yet; it is ignored",
        "a pid: monk does not support pid yet; it is ignored",
        "a security_opt: monk does not support security_opt yet; it is ignored",
        "a logging: monk collects container logs itself; logging drivers and options are ignored",
        "a stop_grace_period: monk stops containers with its own timeout",
        "a shm_size: monk does not support shm_size yet; it is ignored",
        "a read_only: monk does not support read_only yet; it is ignored",
        "a platform: monk runs the image built for the host",
        "a attach: monk does not attach to containers; \`monk logs\` shows their output",
        "a dns: monk does not support dns yet; it is ignored",
        "a stdin_open: monk does not support stdin_open yet; it is ignored",
        "a links: links are not needed: every service reaches the others by name; the start order comes from depends_on",
        "b networks.default.ipv4_address: monk runs one workload network and assigns addresses itself; ignored",
      ]
    `);
  });
});

describe('healthchecks', () => {
  it.each([
    [`test: ["CMD", "curl", "-f", "http://localhost/"]`, 'exec("web", "curl", "-f", "http://localhost/")'],
    [
      `test: ["CMD-SHELL", "pg_isready -U \\"$$USER\\""]`,
      'exec("web", "/bin/sh", "-c", "pg_isready -U \\"$USER\\"")',
    ],
    ['test: curl -f localhost || exit 1', 'exec("web", "/bin/sh", "-c", "curl -f localhost || exit 1")'],
  ])('maps %s to an exec readiness check', async (test, code) => {
    const result = await load(
      `services:\n  web:\n    image: x\n    healthcheck:\n      ${test}\n      interval: 1m30s\n      timeout: 5s\n      retries: 4\n      start_period: 500ms\n`,
    );
    expect(runnableOf(result, 'web').checks).toEqual({
      readiness: { code, period: 90, timeout: 5, attempts: 4, initialDelay: 0.5 },
    });
  });

  it('uses Compose defaults and honours NONE and disable', async () => {
    const result = await load(
      [
        'services:',
        '  a:',
        '    image: x',
        '    healthcheck: {test: [CMD, "true"]}',
        '  b:',
        '    image: x',
        '    healthcheck: {test: [NONE]}',
        '  c:',
        '    image: x',
        '    healthcheck: {test: [CMD, "true"], disable: true}',
        '  d:',
        '    image: x',
        '    healthcheck: {interval: 5s}',
      ].join('\n'),
    );
    expect(runnableOf(result, 'a').checks?.readiness).toEqual({
      code: 'exec("a", "true")',
      period: 30,
      timeout: 30,
      attempts: 3,
      initialDelay: 0,
    });
    expect(runnableOf(result, 'b').checks).toBeUndefined();
    expect(runnableOf(result, 'c').checks).toBeUndefined();
    expect(runnableOf(result, 'd').checks).toBeUndefined();
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "d healthcheck: a healthcheck without test uses the image HEALTHCHECK, which monk does not read",
      ]
    `);
  });
});

describe('dependencies, profiles and networks', () => {
  it('orders runnables by depends_on and waits for every dependency', async () => {
    const result = await load(
      [
        'services:',
        '  proxy:',
        '    image: x',
        '    depends_on: [web]',
        '  web:',
        '    image: x',
        '    depends_on:',
        '      db:',
        '        condition: service_healthy',
        '      cache:',
        '        condition: service_started',
        '      migrate:',
        '        condition: service_completed_successfully',
        '        restart: true',
        '  db:',
        '    image: x',
        '    healthcheck: {test: [CMD, "true"]}',
        '  cache:',
        '    image: x',
        '  migrate:',
        '    image: x',
        '    depends_on: {db: {condition: service_healthy}}',
      ].join('\n'),
    );
    expect(documentOf(result)['myproject']).toEqual({
      defines: 'process-group',
      'runnable-list': [
        'myproject/db',
        'myproject/cache',
        'myproject/migrate',
        'myproject/web',
        'myproject/proxy',
      ],
    });
    expect(runnableOf(result, 'web').depends).toEqual({
      'wait-for': { runnables: ['myproject/db', 'myproject/cache', 'myproject/migrate'] },
    });
    expect(runnableOf(result, 'proxy').depends).toEqual({ 'wait-for': { runnables: ['myproject/web'] } });
    expect(runnableOf(result, 'db').depends).toBeUndefined();
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "web depends_on.migrate.condition: monk waits for the dependency to be ready, not for it to exit",
        "web depends_on.migrate.restart: monk does not restart a service when its dependency restarts",
      ]
    `);
  });

  it.each([
    [
      'services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [a]\n',
      'depends_on forms a cycle: a -> b -> a',
    ],
    ['services:\n  a:\n    image: x\n    depends_on: [ghost]\n', 'depends on undefined service ghost'],
    [
      'services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    profiles: [debug]\n',
      'depends on b, which is not in an active profile (debug)',
    ],
  ])('rejects %j', async (contents, message) => {
    await expect(load(contents)).rejects.toThrow(invalid(message));
  });

  it('leaves out services of inactive profiles, and drops optional dependencies on them', async () => {
    const contents = [
      'services:',
      '  app:',
      '    image: x',
      '    depends_on: {debug: {condition: service_started, required: false}}',
      '  debug:',
      '    image: x',
      '    profiles: [debug, all]',
      '  tools:',
      '    image: x',
      '    profiles: [tools]',
    ].join('\n');
    const byDefault = await load(contents);
    expect(runnableNames(byDefault)).toEqual(['app']);
    expect(runnableOf(byDefault, 'app').depends).toBeUndefined();
    expect(warningLines(byDefault)).toMatchInlineSnapshot(`
      [
        "debug profiles: left out: not in an active profile (debug, all)",
        "tools profiles: left out: not in an active profile (tools)",
      ]
    `);
    expect(runnableNames(await load(contents, { profiles: ['all'] }))).toEqual(['debug', 'app']);
    expect(runnableNames(await load(contents, { profiles: ['*'] }))).toEqual(['debug', 'app', 'tools']);
    expect(
      runnableNames(await load(contents, { environment: { COMPOSE_PROFILES: 'tools, debug' } })),
    ).toEqual(['debug', 'app', 'tools']);
  });

  it('connects services that share a network, the default network, and not network_mode ones', async () => {
    const result = await load(
      [
        'services:',
        '  front:',
        '    image: x',
        '    networks: [public]',
        '    ports: ["80:80"]',
        '  api:',
        '    image: x',
        '    networks: [public, private]',
        '    expose: [8080]',
        '  db:',
        '    image: x',
        '    networks: {private: {aliases: [database]}}',
        '  loner:',
        '    image: x',
        '  other:',
        '    image: x',
        '  host:',
        '    image: x',
        '    network_mode: host',
        'networks:',
        '  public:',
        '  private:',
        '    internal: true',
      ].join('\n'),
    );
    const connections = (name: string): Record<string, unknown> | undefined =>
      runnableOf(result, name).connections;
    expect(connections('front')).toEqual({ api: { runnable: 'myproject/api', service: 'port-8080' } });
    expect(connections('api')).toEqual({
      front: { runnable: 'myproject/front', service: 'port-80' },
      db: { runnable: 'myproject/db' },
    });
    expect(connections('db')).toEqual({ api: { runnable: 'myproject/api', service: 'port-8080' } });
    expect(connections('loner')).toEqual({ other: { runnable: 'myproject/other' } });
    expect(connections('host')).toBeUndefined();
    expect(containerOf(result, 'db').aliases).toEqual(['db', 'database']);
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "- networks.private.internal: monk runs one encrypted workload network across hosts; network settings are ignored",
        "host network_mode: network_mode host is not supported: monk attaches every container to its workload network",
      ]
    `);
  });

  it('rejects an undefined network', async () => {
    await expect(load('services:\n  a:\n    image: x\n    networks: [nope]\n')).rejects.toThrow(
      invalid('refers to undefined network nope'),
    );
  });
});

describe('deploy', () => {
  it('maps replicas, scale, resources and update_config, and warns about the rest', async () => {
    const result = await load(
      [
        'services:',
        '  a:',
        '    image: x',
        '    deploy:',
        '      mode: replicated',
        '      replicas: 3',
        '      resources:',
        '        limits: {cpus: "0.70", memory: 1.5G, pids: 100}',
        '        reservations: {cpus: "0.5", memory: 512M}',
        '      update_config: {parallelism: 2, delay: 10s, failure_action: rollback, monitor: 1m, max_failure_ratio: 0.1, order: start-first}',
        '      placement: {constraints: [node.role == worker]}',
        '      labels: {a: b}',
        '      rollback_config: {parallelism: 1}',
        '  b:',
        '    image: x',
        '    scale: 2',
        '    cpus: 1.5',
        '    mem_limit: 256m',
        '    mem_reservation: 128m',
        '  c:',
        '    image: x',
        '    deploy: {mode: global}',
      ].join('\n'),
    );
    const a = runnableOf(result, 'a');
    expect(a.scale).toBe(3);
    expect(a.resources).toEqual({
      limits: { cpus: 0.7, 'memory-bytes': 1610612736 },
      reservations: { cpus: 0.5, 'memory-bytes': 536870912 },
    });
    expect(a.rollout).toEqual({
      parallelism: 2,
      delay: 10,
      'failure-action': 'rollback',
      monitor: 60,
      'max-failure-ratio': 0.1,
      order: 'start-first',
    });
    const b = runnableOf(result, 'b');
    expect(b.scale).toBe(2);
    expect(b.resources).toEqual({
      limits: { cpus: 1.5, 'memory-bytes': 268435456 },
      reservations: { 'memory-bytes': 134217728 },
    });
    expect(runnableOf(result, 'c').scale).toBeUndefined();
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "a deploy.resources.limits.pids: is not supported by monk",
        "a deploy.placement: monk places runnables itself; placement constraints and preferences are ignored",
        "a deploy.labels: monk has no Swarm service object to label; these labels are ignored",
        "a deploy.rollback_config: is not supported by monk",
        "c deploy.mode: mode global is not supported; monk runs the replicas given by scale (1 by default)",
      ]
    `);
  });

  it('rejects replicas that disagree with scale', async () => {
    await expect(
      load('services:\n  a:\n    image: x\n    scale: 2\n    deploy: {replicas: 3}\n'),
    ).rejects.toThrow(invalid('deploy.replicas (3) and scale (2) disagree'));
  });
});

describe('secrets and configs', () => {
  it('mounts secrets from monk secret store and returns the values read', async () => {
    const result = await load(
      [
        'services:',
        '  a:',
        '    image: x',
        '    secrets:',
        '      - db-password',
        '      - source: token',
        '        target: api_token',
        '        mode: 0400',
        '        uid: "1000"',
        '      - source: cert',
        '        target: /etc/ssl/cert.pem',
        '      - from-env',
        'secrets:',
        '  db-password:',
        '    file: ./secrets/db.txt',
        '  token:',
        '    external: true',
        '  cert:',
        '    external: true',
        '    name: shared-cert',
        '  from-env:',
        '    environment: API_KEY',
      ].join('\n'),
      { files: { '/srv/My Project/secrets/db.txt': 's3cret\n' }, environment: { API_KEY: 'k' } },
    );
    const runnable = runnableOf(result, 'a');
    expect(runnable.files).toEqual({
      'secret-db-password': {
        container: 'a',
        path: '/run/secrets/db-password',
        contents: '<- secret("myproject-db-password")',
        mode: 0o444,
      },
      'secret-token': {
        container: 'a',
        path: '/run/secrets/api_token',
        contents: '<- secret("token")',
        mode: 0o400,
      },
      'secret-cert': {
        container: 'a',
        path: '/etc/ssl/cert.pem',
        contents: '<- secret("shared-cert")',
        mode: 0o444,
      },
      'secret-from-env': {
        container: 'a',
        path: '/run/secrets/from-env',
        contents: '<- secret("myproject-from-env")',
        mode: 0o444,
      },
    });
    expect(runnable['permitted-secrets']).toEqual({
      'myproject-db-password': true,
      token: true,
      'shared-cert': true,
      'myproject-from-env': true,
    });
    expect(result.secrets).toEqual([
      { name: 'myproject-db-password', value: 's3cret\n', source: '/srv/My Project/secrets/db.txt' },
      { name: 'myproject-from-env', value: 'k', source: 'environment:API_KEY' },
    ]);
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "a secrets[1].uid: monk does not set file ownership",
        "a secrets[1]: secret token is external: add it to monk's secret store as token before running",
        "a secrets[2]: secret cert is external: add it to monk's secret store as shared-cert before running",
      ]
    `);
  });

  it('writes configs as files, and rejects undefined secrets and missing config files', async () => {
    const result = await load(
      'services:\n  a:\n    image: x\n    configs: [app, {source: inline, target: etc/inline.conf}]\nconfigs:\n  app:\n    file: app.conf\n  inline:\n    content: "port=${PORT}"\n',
      { files: { '/srv/My Project/app.conf': 'key=value\n' }, environment: { PORT: '80' } },
    );
    expect(runnableOf(result, 'a').files).toEqual({
      'config-app': { container: 'a', path: '/app', contents: 'key=value\n', mode: 0o444 },
      'config-inline': { container: 'a', path: '/etc/inline.conf', contents: 'port=80', mode: 0o444 },
    });
    await expect(load('services:\n  a:\n    image: x\n    secrets: [nope]\n')).rejects.toThrow(
      invalid('refers to undefined secret nope'),
    );
    await expect(
      load('services:\n  a:\n    image: x\n    configs: [c]\nconfigs:\n  c:\n    file: gone.conf\n'),
    ).rejects.toThrow(invalid('config file /srv/My Project/gone.conf not found'));
  });
});

describe('extends', () => {
  const base = [
    'services:',
    '  base:',
    '    image: base',
    '    command: base-command',
    '    environment: {A: base, B: base}',
    '    labels: {tier: base}',
    '    ports: ["80:80", "443:443"]',
    '    volumes: ["./data:/data", "./logs:/logs"]',
    '    env_file: base.env',
    '    profiles: [extra]',
    '    healthcheck: {test: [CMD, base], interval: 5s}',
    '  middle:',
    '    extends: base',
    '    environment: {B: middle}',
    '    cap_add: [NET_ADMIN]',
  ].join('\n');

  it('merges chained extends from another file with Compose merge rules', async () => {
    const result = await load(
      [
        'services:',
        '  app:',
        '    extends: {file: lib/base.yaml, service: middle}',
        '    command: [app, command]',
        '    environment: [C=app]',
        '    ports: ["8080:80", "443:443"]',
        '    volumes: ["./mine:/data"]',
        '    cap_add: [SYS_TIME]',
        '    healthcheck: {test: [CMD, app]}',
      ].join('\n'),
      {
        files: { '/srv/My Project/lib/base.yaml': base, '/srv/My Project/lib/base.env': 'FROM_FILE=1' },
        profiles: ['extra'],
      },
    );
    expect(containerOf(result, 'app')).toMatchObject({
      image: 'base',
      cmd: ['app', 'command'],
      environment: ['FROM_FILE=1', 'A=base', 'B=middle', 'C=app'],
      labels: { tier: 'base' },
      ports: ['80:80/tcp', '443:443/tcp', '8080:80/tcp'],
      paths: ['/srv/My Project/mine:/data', '/srv/My Project/lib/logs:/logs'],
      'cap-add': ['NET_ADMIN', 'SYS_TIME'],
    });
    expect(runnableOf(result, 'app').checks?.readiness).toMatchObject({
      code: 'exec("app", "app")',
      period: 5,
    });
    // Profiles are inherited: without `extra`, app is left out.
    expect(
      runnableNames(
        await load('services:\n  app:\n    extends: {file: lib/base.yaml, service: base}\n', {
          files: { '/srv/My Project/lib/base.yaml': base, '/srv/My Project/lib/base.env': '' },
        }),
      ),
    ).toEqual([]);
  });

  it.each([
    ['services:\n  a:\n    extends: b\n    image: x\n  b:\n    extends: a\n', 'extends forms a cycle'],
    ['services:\n  a:\n    extends: ghost\n', 'service ghost not found'],
    [
      'services:\n  a:\n    extends: {file: nope.yaml, service: b}\n',
      'extended file /srv/My Project/nope.yaml not found',
    ],
  ])('rejects %j', async (contents, message) => {
    await expect(load(contents)).rejects.toThrow(invalid(message));
  });
});
