import { fileURLToPath } from 'node:url';
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MonkError, resolvedRunnableSchema, toDnsLabel } from '@monk/model';
import type { ResolvedRunnable } from '@monk/model';
import { createNodeFileSource } from './file-source.ts';
import { loadTemplates } from './load-templates.ts';
import { resolveDeployment } from './resolve-deployment.ts';
import type { ResolveHost } from './resolve-context.ts';
import { createTemplateSource } from './template-source.ts';

const corpus = fileURLToPath(new URL('../../../../shared/conformance/monk-kits', import.meta.url));
const kit = (name: string): string => posix.join(corpus, name);
const files = createNodeFileSource();
const host: ResolveHost = {
  hostnameOf: (path) => toDnsLabel(path.replace('/', '-')),
  secret: (name) => Promise.resolve(`value-of-${name}`),
};
const volumeRoot = '/var/lib/monk/volumes';

async function resolveKit(entries: string[], path: string, overrides?: Record<string, string>) {
  const { templates } = await loadTemplates({ entries: entries.map(kit), files });
  const deployment = await resolveDeployment({
    path,
    templates: createTemplateSource(templates),
    host,
    volumeRoot,
    ...(overrides === undefined ? {} : { overrides }),
  });
  for (const runnable of deployment.runnables) resolvedRunnableSchema.parse(runnable);
  return deployment;
}

function byPath(runnables: readonly ResolvedRunnable[], path: string): ResolvedRunnable {
  const found = runnables.find((runnable) => runnable.path === path);
  if (found === undefined) throw new Error(`no runnable ${path}`);
  return found;
}

async function rejection(promise: Promise<unknown>): Promise<MonkError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(MonkError);
  return error as MonkError;
}

describe('monk kits corpus', () => {
  it('wordpress-mysql: connection hostnames, defaults of undefined variables, wait-for order', async () => {
    const deployment = await resolveKit(['wordpress-mysql'], 'wordpress-mysql/stack');
    expect(deployment.kind).toBe('process-group');
    expect(deployment.runnables.map((runnable) => runnable.path)).toEqual([
      'wordpress-mysql/db',
      'wordpress-mysql/wordpress',
    ]);
    const db = byPath(deployment.runnables, 'wordpress-mysql/db');
    const wordpress = byPath(deployment.runnables, 'wordpress-mysql/wordpress');
    expect(db.containers[0]?.spec).toMatchObject({
      image: 'mysql:latest',
      environment: {
        MYSQL_DATABASE: 'wpdb',
        MYSQL_USER: 'monk',
        MYSQL_PASSWORD: 'ook6aroh1Ma9Theim8thieGheiY7aiweenae3eineech',
        MYSQL_RANDOM_ROOT_PASSWORD: 'true',
      },
      mounts: [
        { kind: 'bind', source: `${volumeRoot}/wordpress/db`, target: '/var/lib/mysql', readOnly: false },
      ],
    });
    expect(wordpress.containers[0]?.spec.environment).toEqual({
      WORDPRESS_DB_HOST: 'wordpress-mysql-db',
      WORDPRESS_DB_NAME: 'wpdb',
      WORDPRESS_DB_USER: 'monk',
      WORDPRESS_DB_PASSWORD: 'ook6aroh1Ma9Theim8thieGheiY7aiweenae3eineech',
    });
    expect(wordpress.containers[0]?.spec.ports).toEqual([
      { containerPort: 80, hostPort: 80, protocol: 'tcp' },
    ]);
    expect(wordpress.dependsOn).toEqual(['wordpress-mysql/db']);
    expect(wordpress.connections).toEqual({ db: 'wordpress-mysql/db' });
    expect(wordpress.services).toEqual([
      { name: 'wordpress', container: 'wordpress', port: 80, hostPort: 80, protocol: 'tcp', publish: false },
    ]);
  });

  it('wordpress-mysql: --set overrides reach the members that read them', async () => {
    const deployment = await resolveKit(['wordpress-mysql'], 'wordpress-mysql/stack', {
      db_pass: 's3cret',
      'wordpress-mysql/db/database_name': 'blog',
      'mysql-image-tag': '8.4',
    });
    const db = byPath(deployment.runnables, 'wordpress-mysql/db');
    expect(db.containers[0]?.spec.image).toBe('mysql:8.4');
    expect(db.containers[0]?.spec.environment).toMatchObject({
      MYSQL_PASSWORD: 's3cret',
      MYSQL_DATABASE: 'blog',
    });
    expect(
      byPath(deployment.runnables, 'wordpress-mysql/wordpress').containers[0]?.spec.environment[
        'WORDPRESS_DB_PASSWORD'
      ],
    ).toBe('s3cret');
    // The members read db_pass and mysql-image-tag without declaring them: those --set are not unknown.
    expect(deployment.warnings).toEqual([]);
  });

  it('postgresql: versions through inheritance, readiness code, files with mode, bash', async () => {
    for (const [path, version, data] of [
      ['postgresql/db', '17', 'postgresql:/var/lib/postgresql/data'],
      ['postgresql/db-v15', '15', 'postgresql-v15:/var/lib/postgresql/data'],
      ['postgresql/db-v18', '18', 'postgresql-v18:/var/lib/postgresql'],
    ] as const) {
      const deployment = await resolveKit(['postgresql'], path);
      const [runnable] = deployment.runnables;
      const spec = runnable?.containers[0]?.spec;
      expect(spec?.image).toBe(`postgres:${version}`);
      const [source, target] = data.split(':');
      expect(spec?.mounts).toEqual([
        { kind: 'bind', source: `${volumeRoot}/${source}`, target, readOnly: false },
      ]);
      expect(spec?.entrypoint).toEqual(['/bin/sh', '-c']);
      expect(spec?.command).toEqual(['sh /usr/local/bin/entrypoint.sh']);
      expect(spec?.environment).toEqual({
        POSTGRES_USER: 'monk',
        POSTGRES_PASSWORD: 'adminpassword',
        POSTGRES_DB: 'monk',
      });
      expect(spec?.files).toHaveLength(1);
      expect(spec?.files[0]).toMatchObject({ path: '/usr/local/bin/entrypoint.sh', mode: 0o755 });
      expect(spec?.files[0]?.contents).toContain('DATA_DIR="${PGDATA:-/var/lib/postgresql/data}"');
      expect(runnable?.readiness).toEqual({
        kind: 'arrow',
        code: 'exec("postgres", "pg_isready", "-U", "monk") contains?("accepting connections")',
        runnable: path,
        initialDelaySeconds: 5,
        periodSeconds: 5,
        timeoutSeconds: 10,
        attempts: 12,
      });
      expect(runnable?.services).toEqual([
        { name: 'postgres', container: 'postgres', port: 5432, protocol: 'tcp', publish: false },
      ]);
    }
  });

  it('redis-cluster-sentinel-haproxy: group variables, connection ports, the rendered HAProxy config', async () => {
    const deployment = await resolveKit(['redis-cluster-sentinel-haproxy'], 'redis-cluster-haproxy/stack');
    expect(deployment.runnables.map((runnable) => runnable.path)).toEqual([
      'redis-cluster-haproxy/redis-leader',
      'redis-cluster-haproxy/redis-follower-1',
      'redis-cluster-haproxy/redis-follower-2',
      'redis-cluster-haproxy/sentinel',
      'redis-cluster-haproxy/haproxy',
    ]);
    const follower = byPath(deployment.runnables, 'redis-cluster-haproxy/redis-follower-1');
    expect(follower.containers[0]?.spec.environment).toEqual({
      REDIS_DISABLE_COMMANDS: 'FLUSHALL',
      ALLOW_EMPTY_PASSWORD: 'no',
      REDIS_IO_THREADS: '1',
      REDIS_IO_THREADS_DO_READS: 'yes',
      REDIS_PASSWORD: 'bitnami',
      REDIS_REPLICATION_MODE: 'follower',
      REDIS_MASTER_HOST: 'redis-cluster-haproxy-redis-leader',
      REDIS_MASTER_PORT_NUMBER: '6379',
      REDIS_MASTER_PASSWORD: 'bitnami',
    });
    expect(follower.containers[0]?.spec.mounts[0]?.source).toBe(`${volumeRoot}/redis/follower-1`);
    expect(follower.variables['redis_port']).toBe('6388');
    const haproxy = byPath(deployment.runnables, 'redis-cluster-haproxy/haproxy');
    const spec = haproxy.containers[0]?.spec;
    expect(spec?.command).toEqual(['haproxy -f /etc/haproxy/haproxy.cfg']);
    expect(haproxy.services).toEqual([
      { name: 'haproxy-svc', container: 'haproxy', port: 6379, protocol: 'tcp', publish: false },
    ]);
    const config = spec?.files.find((file) => file.path === '/etc/haproxy/haproxy.cfg');
    expect(config?.mode).toBe(644);
    expect(config?.contents).toContain('tcp-check send AUTH\\ bitnami\\r\\n');
    expect(config?.contents).toContain(
      'server redis_backend_01 redis-cluster-haproxy-redis-leader:6379 maxconn 1024 check inter 1s',
    );
    expect(config?.contents).toContain(
      'server redis_backend_03 redis-cluster-haproxy-redis-follower-2:6379 maxconn 1024 check inter 1s',
    );
    expect(config?.contents).not.toContain('{{');
  });

  it('redis-cluster-sentinel-haproxy: a member run alone misses the group variable it reads', async () => {
    const error = await rejection(
      resolveKit(['redis-cluster-sentinel-haproxy'], 'redis-cluster-haproxy/sentinel'),
    );
    expect(error.code).toBe('ARROW_EVAL');
    expect(error.message).toContain('password');
  });

  it('redis: private base, typed variables bound to env, services', async () => {
    const deployment = await resolveKit(['redis'], 'redis/redis');
    const [runnable] = deployment.runnables;
    expect(runnable?.containers[0]?.spec).toMatchObject({
      image: 'bitnamilegacy/redis',
      environment: {
        REDIS_DISABLE_COMMANDS: 'FLUSHDB,FLUSHALL,CONFIG',
        ALLOW_EMPTY_PASSWORD: 'yes',
        REDIS_IO_THREADS: '1',
        REDIS_IO_THREADS_DO_READS: 'yes',
      },
      mounts: [
        {
          kind: 'bind',
          source: `${volumeRoot}/redis/leader`,
          target: '/bitnami/redis/data',
          readOnly: false,
        },
      ],
    });
    expect(runnable?.variables['redis_port']).toBe(6379);
    expect(deployment.sections['redis/redis']?.['metadata']).toMatchObject({ private: false, name: 'Redis' });
  });

  it('chatwoot: non-runnable base, entrypoint with bash, actions kept, group variables', async () => {
    const deployment = await resolveKit(['chatwoot'], 'chatwoot/stack');
    expect(deployment.runnables.map((runnable) => runnable.path)).toEqual([
      'chatwoot/chatwoot-rds',
      'chatwoot/chatwoot-db',
      'chatwoot/chatwoot-rails',
      'chatwoot/chatwoot-sidekiq',
    ]);
    const rails = byPath(deployment.runnables, 'chatwoot/chatwoot-rails');
    expect(rails.containers[0]?.spec.entrypoint).toEqual(['docker/entrypoints/rails.sh']);
    expect(rails.containers[0]?.spec.command).toEqual([
      '/bin/sh',
      '-c',
      'bundle exec rails s -p 3000 -b 0.0.0.0',
    ]);
    expect(rails.containers[0]?.spec.environment).toMatchObject({
      SECRET_KEY_BASE: 'replace_with_lengthy_secure_hex',
      REDIS_URL: 'redis://chatwoot-chatwoot-rds:6379',
      POSTGRES_HOST: 'chatwoot-chatwoot-db',
      NODE_ENV: 'production',
      RAILS_MAX_THREADS: '5',
    });
    expect(deployment.sections['chatwoot/chatwoot-rails']?.['actions']).toMatchObject({
      'prepare-db': { description: 'Prepare database' },
    });
    const sidekiq = byPath(deployment.runnables, 'chatwoot/chatwoot-sidekiq');
    expect(sidekiq.containers[0]?.spec.files[0]).toMatchObject({ path: '/config/sidekiq.yml', mode: 0o600 });
  });

  it('agentsmesh: loads, resolves and plans with the postgresql kit; secrets stay out of variables', async () => {
    const deployment = await resolveKit(['postgresql', 'agentsmesh'], 'agentsmesh/stack-local');
    expect(deployment.runnables).toHaveLength(7);
    const backend = byPath(deployment.runnables, 'agentsmesh/backend-local');
    expect(backend.containers[0]?.spec.environment).toMatchObject({
      DB_HOST: 'agentsmesh-postgres-local',
      DB_PORT: '5432',
      DB_PASSWORD: 'value-of-agentsmesh-postgres-password',
      REDIS_URL: 'redis://:value-of-agentsmesh-redis-password@agentsmesh-redis-local:6379',
      STORAGE_ENDPOINT: 'agentsmesh-minio-local:9000',
    });
    expect(backend.variables['redis-url']).toBe('<secret>');
    expect(JSON.stringify(deployment.runnables.map((runnable) => runnable.variables))).not.toContain(
      'value-of-',
    );
    const postgres = byPath(deployment.runnables, 'agentsmesh/postgres-local');
    expect(postgres.containers[0]?.spec.image).toBe('pgvector/pgvector:pg16');
    expect(postgres.containers[0]?.spec.files[0]?.path).toBe('/usr/local/bin/entrypoint.sh');
    const redis = byPath(deployment.runnables, 'agentsmesh/redis-local');
    expect(redis.containers[0]?.spec.mounts[0]?.source).toBe(`${volumeRoot}/agentsmesh-redis-local`);
    expect(redis.readiness?.kind === 'arrow' ? redis.readiness.code : undefined).toBe(
      'exec("redis", "/bin/sh", "-c", "echo ready") contains?("ready")',
    );
    expect(deployment.sections['agentsmesh/web-local']).toBeDefined();
  });

  it('agentsmesh alone loads with a warning about postgresql/db-v16 and fails to resolve naming it', async () => {
    const { templates, warnings } = await loadTemplates({ entries: [kit('agentsmesh')], files });
    expect(warnings.map((warning) => warning.reference)).toContain('postgresql/db-v16');
    const error = await rejection(
      resolveDeployment({
        path: 'agentsmesh/stack-local',
        templates: createTemplateSource(templates),
        host,
        volumeRoot,
      }),
    );
    expect(error.code).toBe('TEMPLATE_NOT_FOUND');
    expect(error.details?.['missing']).toEqual(['postgresql/db-v16']);
  });

  it('every self-contained runnable and group of the corpus resolves', async () => {
    for (const entries of [
      ['redis'],
      ['postgresql'],
      ['wordpress-mysql'],
      ['redis-cluster-sentinel-haproxy'],
      ['chatwoot'],
      ['postgresql', 'agentsmesh'],
    ]) {
      const { templates, warnings } = await loadTemplates({ entries: entries.map(kit), files });
      expect(warnings).toEqual([]);
      const source = createTemplateSource(templates);
      for (const record of templates) {
        if (record.kind !== 'process-group' && record.kind !== 'group' && record.kind !== 'runnable')
          continue;
        if (record.namespace === 'redis-cluster-haproxy' && record.kind === 'runnable') continue;
        const deployment = await resolveDeployment({
          path: record.path,
          templates: source,
          host,
          volumeRoot,
        });
        expect(deployment.runnables.length).toBeGreaterThan(0);
        for (const runnable of deployment.runnables) resolvedRunnableSchema.parse(runnable);
      }
    }
  });

  it('nginx fails to load naming the template file, the key and the missing embedded file', async () => {
    const error = await rejection(loadTemplates({ entries: [kit('nginx')], files }));
    expect(error.code).toBe('EMBED_NOT_FOUND');
    expect(error.details).toMatchObject({
      templateFile: kit('nginx/manifest.yaml'),
      key: 'ssl/files/entrypoint-nginx/contents',
      embeddedFile: kit('nginx/files/entrypoint-nginx.sh'),
      missing: [
        {
          templateFile: kit('nginx/manifest.yaml'),
          key: 'ssl/files/entrypoint-nginx/contents',
          embeddedFile: kit('nginx/files/entrypoint-nginx.sh'),
        },
        {
          templateFile: kit('nginx/manifest.yaml'),
          key: 'ssl/files/entrypoint-certbot/contents',
          embeddedFile: kit('nginx/files/entrypoint-certbot.sh'),
        },
      ],
    });
    expect(error.message).toContain('entrypoint-certbot.sh');
    expect(error.location).toMatchObject({ file: kit('nginx/manifest.yaml'), line: 106, column: 7 });
  });

  it('mongodb-sharded fails to load naming files/rs-init.sh', async () => {
    const error = await rejection(loadTemplates({ entries: [kit('mongodb-sharded/MANIFEST')], files }));
    expect(error.code).toBe('EMBED_NOT_FOUND');
    expect(error.message).toContain('mongo.yaml');
    expect(error.message).toContain('mongodb-1/files/init-script/contents');
    expect(error.message).toContain('files/rs-init.sh');
  });

  it('hub kits load with warnings and fail to resolve naming every missing template', async () => {
    const cases = [
      {
        entries: ['auth0-integration'],
        path: 'auth0-integration/stack',
        missing: ['auth0/application', 'nginx/node-proxy'],
      },
      {
        entries: ['monk-endpoints-example'],
        path: 'endpoints-example/stack',
        missing: [
          'cloudflare/cloudflare-tunnel',
          'cloudflare/cloudflare-tunnel-application',
          'cloudflare/cloudflared',
          'monkec/endpoints',
          'netlify/deploy',
          'netlify/site',
          'utils/wait-for-action',
          'vercel/deploy',
          'vercel/project',
        ],
      },
      { entries: ['load-balancers-docs/01-http.yaml'], path: 'lbs/services', missing: ['nginx/latest'] },
    ];
    for (const { entries, path, missing } of cases) {
      const { templates, warnings } = await loadTemplates({ entries: entries.map(kit), files });
      expect(
        new Set(
          warnings
            .filter((warning) => warning.code === 'UNRESOLVED_REFERENCE')
            .map((warning) => warning.reference),
        ),
      ).toEqual(new Set(missing));
      const error = await rejection(
        resolveDeployment({ path, templates: createTemplateSource(templates), host, volumeRoot }),
      );
      expect(error.code).toBe('TEMPLATE_NOT_FOUND');
      expect(error.details?.['missing']).toEqual(missing);
      for (const name of missing) expect(error.message).toContain(name);
    }
  });

  it('auth0-integration resolves once nginx/node-proxy and the entity type exist', async () => {
    const { templates } = await loadTemplates({ entries: [kit('auth0-integration')], files });
    const { templates: proxy } = await loadTemplates({ entries: [kit('nginx/node-proxy.yaml')], files });
    const { templates: entityType } = await import('./load-documents.ts').then(({ loadDocuments }) =>
      loadDocuments({
        file: 'auth0.yaml',
        documents: [{ namespace: 'auth0', application: { defines: 'entity' } }],
      }),
    );
    const source = createTemplateSource([...templates, ...proxy, ...entityType]);
    const deployment = await resolveDeployment({
      path: 'auth0-integration/stack',
      templates: source,
      host: {
        ...host,
        domainNameOf: (path) => Promise.resolve(`${toDnsLabel(path)}.example.com`),
        arrowHostFor: () => ({
          entityState: () => Promise.resolve({ 'client-id': 'cid', 'client-secret': 'csecret' }),
          getResolverIp: () => Promise.resolve('127.0.0.11'),
          sslCertificate: () => Promise.resolve('CERT'),
          sslPrivateKey: () => Promise.resolve('KEY'),
        }),
      },
      volumeRoot,
    });
    expect(deployment.runnables.map((runnable) => runnable.path)).toEqual([
      'auth0-integration/auth0-express-app',
      'auth0-integration/proxy',
    ]);
    expect(
      deployment.warnings.some((warning) => warning.includes('auth0-integration/auth0-integration-app')),
    ).toBe(true);
    const app = byPath(deployment.runnables, 'auth0-integration/auth0-express-app');
    expect(app.containers[0]?.spec.environment).toMatchObject({
      AUTH0_CLIENT_ID: 'cid',
      CALLBACK_HOST: 'https://auth0-integration-proxy.example.com',
      PORT: '3000',
    });
    const proxyRunnable = byPath(deployment.runnables, 'auth0-integration/proxy');
    const serverBlock = proxyRunnable.containers[0]?.spec.files.find((file) =>
      file.path.endsWith('reverse_proxy.conf'),
    );
    expect(serverBlock?.contents).toContain(
      'set $backend_upstream http://auth0-integration-auth0-express-app:3000;',
    );
    expect(serverBlock?.contents).toContain('resolver 127.0.0.11 valid=30s;');
    expect(proxyRunnable.services[0]).toMatchObject({ port: 8443, hostPort: 9443, publish: true });
  });

  it('load-balancers-docs: the self-contained UDP example resolves; balancers are kept', async () => {
    const deployment = await resolveKit(['load-balancers-docs/05-udp-aws-runnable.yaml'], 'lbs/udp');
    const [runnable] = deployment.runnables;
    expect(runnable?.containers.map((container) => container.key)).toEqual(['server', 'tcp-server']);
    expect(runnable?.containers[0]?.spec.ports).toEqual([
      { hostPort: 4545, containerPort: 4445, protocol: 'udp' },
    ]);
    const { templates } = await loadTemplates({ entries: [kit('load-balancers-docs/04-udp.yaml')], files });
    const group = await resolveDeployment({
      path: 'lbs/services',
      templates: createTemplateSource(templates),
      host,
      volumeRoot,
    });
    expect(group.runnables.map((item) => item.path)).toEqual(['lbs/service-1', 'lbs/service-2']);
    expect(group.sections['lbs/services']?.['balancers']).toMatchObject({
      'app-balancer': { type: 'udp', port: 4545 },
    });
  });
});
