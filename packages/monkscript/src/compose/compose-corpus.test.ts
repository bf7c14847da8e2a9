import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { importCompose, type ComposeImport, type ImportComposeOptions } from './import-compose.ts';
import {
  containerOf,
  corpusDir,
  documentOf,
  loadSchema,
  overlayFiles,
  runnableNames,
  runnableOf,
} from './test-files.ts';

// Reads the Compose conformance corpus in place. Files the corpus does not carry (zabbix's `.env` and
// `env_vars/`, dogvscat's config sources, nginx-flask-mysql's secret) are laid over it in memory.

let schema: object;
beforeAll(async () => {
  schema = await loadSchema();
});

async function importCorpus(
  name: string,
  options: Partial<Omit<ImportComposeOptions, 'file' | 'contents' | 'files'>> & {
    virtual?: Record<string, string>;
  } = {},
): Promise<ComposeImport> {
  const { virtual = {}, ...rest } = options;
  const file = `${corpusDir}${name}/compose.yaml`;
  const files = overlayFiles(
    Object.fromEntries(Object.entries(virtual).map(([path, text]) => [`${corpusDir}${name}/${path}`, text])),
  );
  return importCompose({ file, contents: await readFile(file, 'utf8'), files, schema, ...rest });
}

/** The key facts of each runnable, compact enough to state in full. */
function summarize(result: ComposeImport): Record<string, Record<string, unknown>> {
  const summary: Record<string, Record<string, unknown>> = {};
  for (const name of runnableNames(result)) {
    const runnable = runnableOf(result, name);
    const container = runnable.containers[name];
    const readiness = runnable.checks?.readiness;
    const facts: Record<string, unknown> = {
      image:
        container?.['image-tag'] === undefined
          ? container?.image
          : `${container.image}:${container['image-tag']}`,
    };
    if (container?.ports !== undefined) facts['ports'] = container.ports;
    if (runnable.services !== undefined) {
      facts['services'] = Object.values(runnable.services).map(
        (service) => `${service.port}/${service.protocol}`,
      );
    }
    if (runnable.depends !== undefined) facts['waitFor'] = runnable.depends['wait-for'].runnables;
    if (readiness !== undefined) {
      facts['readiness'] =
        `${readiness.code} every ${readiness.period}s, timeout ${readiness.timeout}s, ${readiness.attempts} attempts, after ${readiness.initialDelay}s`;
    }
    if (runnable.scale !== undefined) facts['scale'] = runnable.scale;
    if (runnable.resources !== undefined) facts['resources'] = runnable.resources;
    if (runnable.rollout !== undefined) facts['rollout'] = runnable.rollout;
    if (container?.paths !== undefined)
      facts['paths'] = container.paths.map((path) => path.replace(corpusDir, '<corpus>/'));
    if (container?.volumes !== undefined) facts['volumes'] = container.volumes;
    if (runnable.connections !== undefined) facts['connections'] = Object.keys(runnable.connections);
    if (runnable.files !== undefined) {
      facts['files'] = Object.values(runnable.files).map((file) => `${file.path} (${file.mode.toString(8)})`);
    }
    facts['restart'] = container?.restart;
    summary[name] = facts;
  }
  return summary;
}

function warningLines(result: ComposeImport): string[] {
  return result.warnings.map(
    (warning) =>
      `${warning.service ?? '-'} ${warning.key}: ${warning.message.replaceAll(corpusDir, '<corpus>/')}`,
  );
}

function group(result: ComposeImport): unknown {
  const document = documentOf(result);
  return Object.values(document).find(
    (value) => (value as { defines?: string } | null)?.defines === 'process-group',
  );
}

const zabbixDotenv = `
ZABBIX_ALPINE_IMAGE_TAG=alpine-7.0
ZABBIX_IMAGE_TAG_POSTFIX=-latest
ALPINE_OS_TAG=3.20
ZABBIX_SERVER_MYSQL_IMAGE=zabbix/zabbix-server-mysql
ZABBIX_PROXY_SQLITE3_IMAGE=zabbix/zabbix-proxy-sqlite3
ZABBIX_PROXY_MYSQL_IMAGE=zabbix/zabbix-proxy-mysql
ZABBIX_WEB_APACHE_MYSQL_IMAGE=zabbix/zabbix-web-apache-mysql
ZABBIX_WEB_NGINX_MYSQL_IMAGE=zabbix/zabbix-web-nginx-mysql
ZABBIX_AGENT_IMAGE=zabbix/zabbix-agent
ZABBIX_JAVA_GATEWAY_IMAGE=zabbix/zabbix-java-gateway
ZABBIX_SNMPTRAPS_IMAGE=zabbix/zabbix-snmptraps
ZABBIX_WEB_SERVICE_IMAGE=zabbix/zabbix-web-service
MYSQL_IMAGE=mysql
MYSQL_IMAGE_TAG=8.0-oracle
ELASTICSEARCH_IMAGE=elasticsearch
ELASTICSEARCH_IMAGE_TAG=latest
WEBDRIVER_IMAGE=selenium/hub
WEBDRIVER_IMAGE_TAG=4.21.0
WEBDRIVER_CHROME_IMAGE=selenium/node-chrome
WEBDRIVER_CHROME_IMAGE_TAG=125.0
WEBDRIVER_FIREFOX_IMAGE=selenium/node-firefox
WEBDRIVER_FIREFOX_IMAGE_TAG=126.0
RESTART_POLICY=unless-stopped
DATA_DIRECTORY=./zbx_env
ENV_VARS_DIRECTORY=./env_vars
ZABBIX_SERVER_PORT=10051
ZABBIX_PROXY_SQLITE3_PORT=10061
ZABBIX_PROXY_MYSQL_PORT=10071
ZABBIX_WEB_APACHE_HTTP_PORT=8081
ZABBIX_WEB_APACHE_HTTPS_PORT=8443
ZABBIX_WEB_NGINX_HTTP_PORT=80
ZABBIX_WEB_NGINX_HTTPS_PORT=443
ZABBIX_AGENT_PORT=10050
ZABBIX_AGENT2_PORT=10060
ZABBIX_JAVA_GATEWAY_PORT=10052
ZABBIX_SNMPTRAPS_PORT=162
ZABBIX_WEB_SERVICE_PORT=10053
FRONTEND_ENABLE_IPV6=false
FRONTEND_NETWORK_DRIVER=default
FRONTEND_SUBNET=172.16.238.0/24
BACKEND_ENABLE_IPV6=false
BACKEND_NETWORK_DRIVER=default
BACKEND_SUBNET=172.16.239.0/24
DATABASE_NETWORK_ENABLE_IPV6=false
DATABASE_NETWORK_DRIVER=default
ADD_TOOLS_ENABLE_IPV6=false
ADD_TOOLS_NETWORK_DRIVER=default
ADD_TOOLS_SUBNET=172.16.240.0/24
`;

/** zabbix's `.env` (not in the corpus) and its env and secret files, as in-memory files. */
const zabbixFiles: Record<string, string> = {
  '.env': zabbixDotenv,
  'env_vars/.env_srv': 'ZBX_DEBUGLEVEL=3',
  'env_vars/.env_db_mysql': 'DB_SERVER_HOST=mysql-server\nMYSQL_DATABASE=zabbix',
  'env_vars/.env_db_mysql_proxy': 'MYSQL_DATABASE=zabbix_proxy',
  'env_vars/.env_web': 'ZBX_SERVER_HOST=zabbix-server\nPHP_TZ="Europe/Riga"',
  'env_vars/.env_prx': 'ZBX_HOSTNAME=zabbix-proxy',
  'env_vars/.env_prx_sqlite3': '',
  'env_vars/.env_prx_mysql': '',
  'env_vars/.env_agent': 'ZBX_HOSTNAME=zabbix-agent',
  'env_vars/.env_java': '',
  'env_vars/.env_snmptraps': '',
  'env_vars/.env_web_service': '',
  'env_vars/.MYSQL_USER': 'zabbix',
  'env_vars/.MYSQL_PASSWORD': 'zabbix-password',
  'env_vars/.MYSQL_ROOT_USER': 'root',
  'env_vars/.MYSQL_ROOT_PASSWORD': 'root-password',
};

const dogvscatConfigs = {
  'docker-elk/elasticsearch/config/elasticsearch.yml': 'cluster.name: elk\n',
  'docker-elk/logstash/config/logstash.yml': 'http.host: 0.0.0.0\n',
  'logstash.conf': 'input { tcp { port => 5000 } }\n',
  'docker-elk/kibana/config/kibana.yml': 'server.name: kibana\n',
};

const piholeEnvironment = {
  TIMEZONE: 'Europe/Riga',
  PIHOLE_PW: 'pw',
  PIHOLE_ROUTER_IP: '192.168.1.1',
  PIHOLE_NETWORK_DOMAIN: 'lan',
  PIHOLE_REVERSE_DNS: '192.168.1.0/24',
  PIHOLE_HOST_IP: '192.168.1.2',
  PIHOLE_HOST_IPV6: '',
};

describe('the Compose corpus', () => {
  it('imports nginx-flask-mysql: healthcheck, service_healthy, secrets, build-only services', async () => {
    const result = await importCorpus('nginx-flask-mysql');
    expect(result.namespace).toBe('nginx-flask-mysql');
    expect(group(result)).toEqual({
      defines: 'process-group',
      'runnable-list': ['nginx-flask-mysql/db', 'nginx-flask-mysql/backend', 'nginx-flask-mysql/proxy'],
    });
    expect(summarize(result)).toMatchObject({
      db: {
        image: 'mariadb:10-focal',
        services: ['3306/tcp', '33060/tcp'],
        readiness:
          'exec("db", "/bin/sh", "-c", "mysqladmin ping -h 127.0.0.1 --password=\\"$(cat /run/secrets/db-password)\\" --silent") every 3s, timeout 30s, 5 attempts, after 30s',
        paths: ['<- `${monk-volume-path}/nginx-flask-mysql/db-data:/var/lib/mysql`'],
        files: ['/run/secrets/db-password (444)'],
        connections: ['backend'],
        restart: 'always',
      },
      backend: {
        image: 'nginx-flask-mysql-backend:latest',
        ports: ['8000:8000/tcp'],
        waitFor: ['nginx-flask-mysql/db'],
        connections: ['db', 'proxy'],
      },
      proxy: {
        image: 'nginx-flask-mysql-proxy:latest',
        ports: ['80:80/tcp'],
        waitFor: ['nginx-flask-mysql/backend'],
      },
    });
    expect(containerOf(result, 'db').cmd).toEqual(['--default-authentication-plugin=mysql_native_password']);
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "db secrets[0]: secret file <corpus>/nginx-flask-mysql/db/password.txt not found: add the secret to monk's secret store as nginx-flask-mysql-db-password",
        "backend build: monk does not build images: build this one as nginx-flask-mysql-backend:latest (for example with \`docker compose build\`) and make it available on every host that may run backend",
        "backend secrets[0]: secret file <corpus>/nginx-flask-mysql/db/password.txt not found: add the secret to monk's secret store as nginx-flask-mysql-db-password",
        "proxy build: monk does not build images: build this one as nginx-flask-mysql-proxy:latest (for example with \`docker compose build\`) and make it available on every host that may run proxy",
      ]
    `);
  });

  it('reads the nginx-flask-mysql secret file when it exists', async () => {
    const result = await importCorpus('nginx-flask-mysql', { virtual: { 'db/password.txt': 'db-secret' } });
    expect(result.secrets.map(({ name, value }) => ({ name, value }))).toEqual([
      { name: 'nginx-flask-mysql-db-password', value: 'db-secret' },
    ]);
    expect(runnableOf(result, 'backend')['permitted-secrets']).toEqual({
      'nginx-flask-mysql-db-password': true,
    });
  });

  it('imports react-express-mongodb: relative binds plus anonymous volumes', async () => {
    const result = await importCorpus('react-express-mongodb');
    expect(summarize(result)).toMatchObject({
      mongo: { image: 'mongo:4.2.0', services: ['27017/tcp'], connections: ['backend'] },
      backend: {
        image: 'react-express-mongodb-backend:latest',
        services: ['3000/tcp'],
        waitFor: ['react-express-mongodb/mongo'],
        paths: ['<corpus>/react-express-mongodb/backend:/usr/src/app'],
        volumes: ['/usr/src/app/node_modules'],
        connections: ['mongo', 'frontend'],
      },
      frontend: {
        ports: ['3000:3000/tcp'],
        waitFor: ['react-express-mongodb/backend'],
        connections: ['backend'],
      },
    });
    expect(runnableNames(result)).toEqual(['mongo', 'backend', 'frontend']);
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "backend build: monk does not build images: build this one as react-express-mongodb-backend:latest (for example with \`docker compose build\`) and make it available on every host that may run backend",
        "backend volumes: relative bind sources are resolved against the Compose file's folder (<corpus>/react-express-mongodb); those paths must exist on every host that may run backend",
        "frontend build: monk does not build images: build this one as react-express-mongodb-frontend:latest (for example with \`docker compose build\`) and make it available on every host that may run frontend",
        "frontend volumes: relative bind sources are resolved against the Compose file's folder (<corpus>/react-express-mongodb); those paths must exist on every host that may run frontend",
        "frontend stdin_open: monk does not support stdin_open yet; it is ignored",
      ]
    `);
  });

  it('imports wordpress-mysql without a warning', async () => {
    const result = await importCorpus('wordpress-mysql');
    expect(summarize(result)).toEqual({
      db: {
        image: 'mariadb:10.6.4-focal',
        services: ['3306/tcp', '33060/tcp'],
        paths: ['<- `${monk-volume-path}/wordpress-mysql/db_data:/var/lib/mysql`'],
        connections: ['wordpress'],
        restart: 'always',
      },
      wordpress: {
        image: 'wordpress:latest',
        ports: ['80:80/tcp'],
        services: ['80/tcp'],
        connections: ['db'],
        restart: 'always',
      },
    });
    expect(containerOf(result, 'wordpress').environment).toContain('WORDPRESS_DB_HOST=db');
    expect(result.warnings).toEqual([]);
  });

  it('imports prometheus-grafana: list command, directory binds, container_name', async () => {
    const result = await importCorpus('prometheus-grafana');
    expect(summarize(result)).toMatchObject({
      prometheus: {
        image: 'prom/prometheus:latest',
        ports: ['9090:9090/tcp'],
        paths: [
          '<corpus>/prometheus-grafana/prometheus:/etc/prometheus',
          '<- `${monk-volume-path}/prometheus-grafana/prom_data:/prometheus`',
        ],
        restart: 'unless-stopped',
      },
      grafana: { image: 'grafana/grafana:latest', ports: ['3000:3000/tcp'], restart: 'unless-stopped' },
    });
    expect(containerOf(result, 'prometheus')).toMatchObject({
      cmd: ['--config.file=/etc/prometheus/prometheus.yml'],
      'container-name': 'prometheus',
      aliases: ['prometheus'],
    });
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "prometheus volumes: relative bind sources are resolved against the Compose file's folder (<corpus>/prometheus-grafana); those paths must exist on every host that may run prometheus",
        "grafana volumes: relative bind sources are resolved against the Compose file's folder (<corpus>/prometheus-grafana); those paths must exist on every host that may run grafana",
      ]
    `);
  });

  it('imports traefik-golang: labels with backticks, docker.sock, a flag string command', async () => {
    const result = await importCorpus('traefik-golang');
    expect(runnableNames(result)).toEqual(['backend', 'frontend']);
    expect(summarize(result)).toMatchObject({
      backend: { image: 'traefik-golang-backend:latest', connections: ['frontend'], restart: 'no' },
      frontend: {
        image: 'traefik:2.6',
        ports: ['80:80/tcp'],
        waitFor: ['traefik-golang/backend'],
        paths: ['/var/run/docker.sock:/var/run/docker.sock'],
      },
    });
    expect(containerOf(result, 'frontend').cmd).toEqual([
      '--providers.docker',
      '--entrypoints.web.address=:80',
      '--providers.docker.exposedbydefault=false',
    ]);
    expect(containerOf(result, 'backend').labels).toEqual({
      'traefik.enable': 'true',
      'traefik.http.routers.go.rule': 'Path(`/`)',
      'traefik.http.services.go.loadbalancer.server.port': '80',
    });
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "backend build: monk does not build images: build this one as traefik-golang-backend:latest (for example with \`docker compose build\`) and make it available on every host that may run backend",
      ]
    `);
  });

  it('imports elasticsearch-logstash-kibana: dotted env keys, tcp and udp on one port', async () => {
    const result = await importCorpus('elasticsearch-logstash-kibana');
    expect(summarize(result)).toMatchObject({
      elasticsearch: {
        image: 'elasticsearch:7.16.1',
        ports: ['9200:9200/tcp', '9300:9300/tcp'],
        readiness:
          'exec("elasticsearch", "/bin/sh", "-c", "curl --silent --fail localhost:9200/_cluster/health || exit 1") every 10s, timeout 10s, 3 attempts, after 0s',
      },
      logstash: {
        image: 'logstash:7.16.1',
        ports: ['5000:5000/tcp', '5000:5000/udp', '5044:5044/tcp', '9600:9600/tcp'],
        services: ['5000/tcp', '5000/udp', '5044/tcp', '9600/tcp'],
        waitFor: ['elasticsearch-logstash-kibana/elasticsearch'],
      },
      kibana: { image: 'kibana:7.16.1', waitFor: ['elasticsearch-logstash-kibana/elasticsearch'] },
    });
    expect(containerOf(result, 'elasticsearch').environment).toEqual([
      'discovery.type=single-node',
      'ES_JAVA_OPTS=-Xms512m -Xmx512m',
    ]);
    expect(containerOf(result, 'logstash').aliases).toEqual(['logstash', 'log']);
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "logstash volumes: relative bind sources are resolved against the Compose file's folder (<corpus>/elasticsearch-logstash-kibana); those paths must exist on every host that may run logstash",
      ]
    `);
  });

  it('imports minecraft: a fractional memory limit, a ~ bind, 1-space indentation', async () => {
    const result = await importCorpus('minecraft', { homeDir: '/home/player' });
    expect(summarize(result)).toEqual({
      minecraft: {
        image: 'itzg/minecraft-server:latest',
        ports: ['25565:25565/tcp'],
        services: ['25565/tcp'],
        resources: { limits: { 'memory-bytes': 1610612736 } },
        paths: ['/home/player/minecraft_data:/data'],
        restart: 'no',
      },
    });
    expect(group(result)).toEqual({ defines: 'process-group', 'runnable-list': ['minecraft/minecraft'] });
    expect(documentOf(result)['minecraft-stack']).toBeDefined();
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "- name: a service is named like the project, so the process-group is minecraft/minecraft-stack",
      ]
    `);
  });

  it('imports plex with its media path, and rejects it without (as Compose does)', async () => {
    const result = await importCorpus('plex', { environment: { PLEX_MEDIA_PATH: '/srv/media' } });
    expect(summarize(result)).toEqual({
      plex: { image: 'linuxserver/plex:latest', paths: ['/srv/media:/media/'], restart: 'always' },
    });
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "plex network_mode: network_mode host is not supported: monk attaches every container to its workload network",
        "- name: a service is named like the project, so the process-group is plex/plex-stack",
      ]
    `);
    await expect(importCorpus('plex')).rejects.toThrow(
      expect.objectContaining({
        code: 'COMPOSE_INVALID',
        message: expect.stringMatching(
          /plex\/compose\.yaml: services\.plex\.volumes\[0\]: .*empty section between colons/,
        ) as unknown,
      }),
    );
  });

  it('imports pihole-cloudflared-doh: version, ipv4_address, cap_add, a # inside a value', async () => {
    const result = await importCorpus('pihole-cloudflared-doh', { environment: piholeEnvironment });
    expect(summarize(result)).toMatchObject({
      cloudflared: { image: 'visibilityspots/cloudflared:latest', ports: ['5054:5054/tcp', '5054:5054/udp'] },
      pihole: {
        image: 'pihole/pihole:latest',
        ports: ['53:53/tcp', '53:53/udp', '67:67/udp', '8080:80/tcp', '8443:443/tcp'],
        waitFor: ['pihole-cloudflared-doh/cloudflared'],
        paths: ['/etc/pihole/:/etc/pihole/', '/etc/dnsmasq.d/:/etc/dnsmasq.d/'],
      },
    });
    expect(containerOf(result, 'pihole')).toMatchObject({ 'cap-add': ['NET_ADMIN'] });
    // A YAML list item is a plain scalar: the ` # …` is a YAML comment, the `#5054` is part of the value.
    expect(containerOf(result, 'pihole').environment).toContain('PIHOLE_DNS_=172.20.0.2#5054;1.1.1.1');
    expect(containerOf(result, 'pihole').environment).toContain('ServerIPv6=');
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "- version: the top-level version is obsolete and ignored",
        "- networks.dns-net.ipam: monk runs one encrypted workload network across hosts; network settings are ignored",
        "cloudflared networks.dns-net.ipv4_address: monk runs one workload network and assigns addresses itself; ignored",
      ]
    `);
    const unset = await importCorpus('pihole-cloudflared-doh');
    expect(unset.warnings.filter((warning) => warning.message.includes('is not set')).length).toBe(7);
  });

  it('imports zabbix with its default profile: extends from other files, chained, env files, secrets', async () => {
    const result = await importCorpus('zabbix', { virtual: zabbixFiles });
    expect(group(result)).toEqual({
      defines: 'process-group',
      'runnable-list': [
        'zabbix/mysql-server',
        'zabbix/zabbix-server',
        'zabbix/zabbix-web-nginx-mysql',
        'zabbix/db-data-mysql',
      ],
    });
    expect(summarize(result)).toMatchObject({
      'mysql-server': {
        image: 'mysql:8.0-oracle',
        files: [
          '/run/secrets/MYSQL_USER (444)',
          '/run/secrets/MYSQL_PASSWORD (444)',
          '/run/secrets/MYSQL_ROOT_PASSWORD (444)',
        ],
        restart: 'unless-stopped',
      },
      'zabbix-server': {
        image: 'zabbix/zabbix-server-mysql:alpine-7.0-latest',
        ports: ['10051:10051/tcp'],
        waitFor: ['zabbix/mysql-server'],
        resources: {
          limits: { cpus: 0.7, 'memory-bytes': 1073741824 },
          reservations: { cpus: 0.5, 'memory-bytes': 536870912 },
        },
        files: ['/run/secrets/MYSQL_USER (444)', '/run/secrets/MYSQL_PASSWORD (444)'],
        connections: ['mysql-server', 'zabbix-web-nginx-mysql'],
      },
      'zabbix-web-nginx-mysql': {
        image: 'zabbix/zabbix-web-nginx-mysql:alpine-7.0-latest',
        ports: ['80:8080/tcp', '443:8443/tcp'],
        waitFor: ['zabbix/mysql-server'],
        readiness:
          'exec("zabbix-web-nginx-mysql", "curl", "-f", "http://localhost:8080/ping") every 10s, timeout 5s, 3 attempts, after 30s',
      },
      'db-data-mysql': { image: 'busybox:latest', restart: 'no' },
    });
    const server = containerOf(result, 'zabbix-server');
    // env_file merge through extends: server's .env_srv, then server-mysql's .env_db_mysql.
    expect(server.environment).toEqual([
      'ZBX_DEBUGLEVEL=3',
      'DB_SERVER_HOST=mysql-server',
      'MYSQL_DATABASE=zabbix',
    ]);
    expect(server.labels).toEqual({
      'com.zabbix.company': 'Zabbix LLC',
      'com.zabbix.component': 'zabbix-server',
      'com.zabbix.description': 'Zabbix server with MySQL database support',
      'com.zabbix.dbtype': 'mysql',
      'com.zabbix.os': '3.20',
    });
    expect(server.aliases).toEqual(['zabbix-server', 'zabbix-server-mysql']);
    expect(server.init).toBe(true);
    expect(server.paths?.at(-2)).toBe('<- `${monk-volume-path}/zabbix/snmptraps:/var/lib/zabbix/snmptraps`');
    expect(containerOf(result, 'mysql-server').cmd).toEqual([
      'mysqld',
      '--skip-mysqlx',
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_bin',
      '--log_bin_trust_function_creators=1',
    ]);
    expect(containerOf(result, 'zabbix-web-nginx-mysql').environment).toContain('PHP_TZ=Europe/Riga');
    expect(result.secrets.map(({ name, value }) => `${name}=${value}`)).toEqual([
      'zabbix-MYSQL_USER=zabbix',
      'zabbix-MYSQL_PASSWORD=zabbix-password',
      'zabbix-MYSQL_ROOT_PASSWORD=root-password',
    ]);
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "- networks.frontend.driver_opts: monk runs one encrypted workload network across hosts; network settings are ignored",
        "- networks.frontend.ipam: monk runs one encrypted workload network across hosts; network settings are ignored",
        "- networks.backend.driver_opts: monk runs one encrypted workload network across hosts; network settings are ignored",
        "- networks.backend.internal: monk runs one encrypted workload network across hosts; network settings are ignored",
        "- networks.backend.ipam: monk runs one encrypted workload network across hosts; network settings are ignored",
        "- networks.database.driver_opts: monk runs one encrypted workload network across hosts; network settings are ignored",
        "- networks.database.internal: monk runs one encrypted workload network across hosts; network settings are ignored",
        "- networks.database.ipam: monk runs one encrypted workload network across hosts; network settings are ignored",
        "- networks.tools_frontend.driver_opts: monk runs one encrypted workload network across hosts; network settings are ignored",
        "- networks.tools_frontend.ipam: monk runs one encrypted workload network across hosts; network settings are ignored",
        "zabbix-proxy-sqlite3 profiles: left out: not in an active profile (all)",
        "zabbix-proxy-mysql profiles: left out: not in an active profile (all)",
        "zabbix-web-apache-mysql profiles: left out: not in an active profile (all)",
        "zabbix-agent profiles: left out: not in an active profile (full, all)",
        "zabbix-java-gateway profiles: left out: not in an active profile (full, all)",
        "zabbix-snmptraps profiles: left out: not in an active profile (full, all)",
        "zabbix-web-service profiles: left out: not in an active profile (full, all)",
        "elasticsearch profiles: left out: not in an active profile (elasticsearch)",
        "selenium profiles: left out: not in an active profile (selenium, selenium-chrome, selenium-firefox)",
        "selenium-chrome profiles: left out: not in an active profile (selenium, selenium-chrome)",
        "selenium-firefox profiles: left out: not in an active profile (selenium, selenium-firefox)",
        "mysql-server volumes: relative bind sources are resolved against the Compose file's folder (<corpus>/zabbix); those paths must exist on every host that may run mysql-server",
        "mysql-server attach: monk does not attach to containers; \`monk logs\` shows their output",
        "mysql-server stop_grace_period: monk stops containers with its own timeout",
        "zabbix-server ports[0]: app_protocol zabbix-trapper is not used by monk",
        "zabbix-server volumes: relative bind sources are resolved against the Compose file's folder (<corpus>/zabbix); those paths must exist on every host that may run zabbix-server",
        "zabbix-server volumes[9]: volume option roz is not applied (SELinux relabelling is not supported; Compose itself ignores a combined "roz"), the mount is read-write",
        "zabbix-server attach: monk does not attach to containers; \`monk logs\` shows their output",
        "zabbix-server tmpfs: monk does not support tmpfs yet; it is ignored",
        "zabbix-server ulimits: monk does not support ulimits yet; it is ignored",
        "zabbix-server stop_grace_period: monk stops containers with its own timeout",
        "zabbix-server sysctls: monk does not support sysctls yet; it is ignored",
        "zabbix-web-nginx-mysql ports[0]: app_protocol http is not used by monk",
        "zabbix-web-nginx-mysql ports[1]: app_protocol https is not used by monk",
        "zabbix-web-nginx-mysql volumes: relative bind sources are resolved against the Compose file's folder (<corpus>/zabbix); those paths must exist on every host that may run zabbix-web-nginx-mysql",
        "zabbix-web-nginx-mysql attach: monk does not attach to containers; \`monk logs\` shows their output",
        "zabbix-web-nginx-mysql tmpfs: monk does not support tmpfs yet; it is ignored",
        "zabbix-web-nginx-mysql stop_grace_period: monk stops containers with its own timeout",
        "zabbix-web-nginx-mysql sysctls: monk does not support sysctls yet; it is ignored",
        "db-data-mysql volumes: relative bind sources are resolved against the Compose file's folder (<corpus>/zabbix); those paths must exist on every host that may run db-data-mysql",
      ]
    `);
  });

  it('imports every zabbix service with all profiles', async () => {
    const result = await importCorpus('zabbix', { virtual: zabbixFiles, profiles: ['*'] });
    expect(runnableNames(result)).toHaveLength(15);
    expect(summarize(result)).toMatchObject({
      'zabbix-agent': {
        image: 'zabbix/zabbix-agent:alpine-7.0-latest',
        ports: ['10050:10050/tcp'],
        resources: { limits: { cpus: 0.2, 'memory-bytes': 134217728 } },
      },
      'zabbix-snmptraps': { ports: ['162:1162/udp'] },
      'selenium-chrome': { image: 'selenium/node-chrome:125.0', scale: 2, waitFor: ['zabbix/selenium'] },
      elasticsearch: { image: 'elasticsearch:latest' },
    });
    expect(containerOf(result, 'zabbix-agent')).toMatchObject({ privileged: true, init: true });
    expect(containerOf(result, 'selenium').aliases).toEqual(['selenium', 'webdriver', 'selenium-hub']);
    const warned = (service: string): string[] =>
      result.warnings.filter((warning) => warning.service === service).map((warning) => warning.key);
    expect(warned('zabbix-agent')).toEqual(expect.arrayContaining(['pid', 'deploy.mode', 'tmpfs', 'attach']));
    expect(warned('zabbix-web-service')).toContain('security_opt');
    expect(warned('zabbix-snmptraps')).toEqual(expect.arrayContaining(['read_only', 'volumes[0]']));
    expect(warned('selenium-chrome')).toContain('shm_size');
    expect(warned('selenium-chrome')).toContain('platform');
  });

  it('rejects zabbix without its .env, naming the service and key', async () => {
    await expect(importCorpus('zabbix')).rejects.toThrow(
      expect.objectContaining({
        code: 'COMPOSE_INVALID',
        message: expect.stringContaining('services.') as unknown,
      }),
    );
  });

  it('imports dogvscat-elk-stack: x- anchors merged, configs, replicas, a bare $ in a default', async () => {
    const result = await importCorpus('dogvscat-elk-stack', { virtual: dogvscatConfigs });
    expect(summarize(result)).toMatchObject({
      elasticsearch: {
        image: 'docker.elastic.co/elasticsearch/elasticsearch-oss:6.4.0',
        scale: 1,
        paths: ['<- `${monk-volume-path}/dogvscat-elk-stack/elasticsearch:/usr/share/elasticsearch/data`'],
        files: ['/usr/share/elasticsearch/config/elasticsearch.yml (444)'],
      },
      logstash: {
        ports: ['5000:5000/tcp', '9600:9600/tcp'],
        files: [
          '/usr/share/logstash/config/logstash.yml (444)',
          '/usr/share/logstash/pipeline/logstash.conf (444)',
        ],
      },
      kibana: { scale: 1, connections: ['elasticsearch', 'logstash'] },
    });
    expect(runnableOf(result, 'logstash').files?.['config-logstash_pipeline']?.contents).toBe(
      'input { tcp { port => 5000 } }\n',
    );
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "kibana deploy.labels.traefik.http.middlewares.kibana-auth.basicauth.users: a "$" not followed by a variable name is kept as it is; write "$$" for a literal "$"",
        "kibana deploy.labels.traefik.http.middlewares.kibana-auth.basicauth.users: oZcj4FgdSFEYNCH0EH is not set; it is replaced by an empty string",
        "- version: the top-level version is obsolete and ignored",
        "- networks.proxy.external: monk runs one encrypted workload network across hosts; network settings are ignored",
        "- volumes.elasticsearch.driver: monk keeps named volumes as folders under \${monk-volume-path} on the host that runs the service; volume settings are ignored",
        "- volumes.elasticsearch.driver_opts: monk keeps named volumes as folders under \${monk-volume-path} on the host that runs the service; volume settings are ignored",
        "elasticsearch logging: monk collects container logs itself; logging drivers and options are ignored",
        "logstash logging: monk collects container logs itself; logging drivers and options are ignored",
        "kibana logging: monk collects container logs itself; logging drivers and options are ignored",
        "kibana deploy.labels: monk has no Swarm service object to label; these labels are ignored",
      ]
    `);
    const withPassword = await importCorpus('dogvscat-elk-stack', {
      virtual: dogvscatConfigs,
      environment: { KIBANA_PASSWORD: 'hash' },
    });
    expect(withPassword.warnings.some((warning) => warning.key.startsWith('deploy.labels.'))).toBe(false);
    await expect(importCorpus('dogvscat-elk-stack')).rejects.toThrow(
      expect.objectContaining({
        code: 'COMPOSE_INVALID',
        message: expect.stringContaining('configs.elastic_config: config file') as unknown,
      }),
    );
  });

  it('imports atsea-swarm-stack: replicas, update_config, restart_policy, external and renamed secrets', async () => {
    const result = await importCorpus('atsea-swarm-stack');
    expect(summarize(result)).toMatchObject({
      reverse_proxy: {
        ports: ['80:80/tcp', '443:443/tcp'],
        files: ['/run/secrets/revprox_cert (444)', '/run/secrets/revprox_key (444)'],
      },
      database: { image: 'dockersamples/atsea_db:latest', connections: ['appserver'] },
      appserver: {
        image: 'dockersamples/atsea_app:latest',
        scale: 2,
        rollout: { parallelism: 2, 'failure-action': 'rollback' },
        connections: ['reverse_proxy', 'database', 'payment_gateway'],
        restart: 'on-failure',
      },
      visualizer: {
        image: 'dockersamples/visualizer:stable',
        ports: ['8001:8080/tcp'],
        rollout: { 'failure-action': 'rollback' },
      },
      payment_gateway: { files: ['/run/secrets/payment_token (444)'], connections: ['appserver'] },
    });
    expect(runnableOf(result, 'payment_gateway')['permitted-secrets']).toEqual({ staging_token: true });
    expect(warningLines(result)).toMatchInlineSnapshot(`
      [
        "- version: the top-level version is obsolete and ignored",
        "- networks.payment.driver_opts: monk runs one encrypted workload network across hosts; network settings are ignored",
        "reverse_proxy secrets[0]: secret revprox_cert is external: add it to monk's secret store as revprox_cert before running",
        "reverse_proxy secrets[1]: secret revprox_key is external: add it to monk's secret store as revprox_key before running",
        "database deploy.placement: monk places runnables itself; placement constraints and preferences are ignored",
        "database secrets[0]: secret postgres_password is external: add it to monk's secret store as postgres_password before running",
        "appserver deploy.placement: monk places runnables itself; placement constraints and preferences are ignored",
        "appserver deploy.restart_policy.delay: monk restarts with its own exponential back-off",
        "appserver deploy.restart_policy.max_attempts: monk restarts with its own exponential back-off",
        "appserver deploy.restart_policy.window: monk restarts with its own exponential back-off",
        "appserver secrets[0]: secret postgres_password is external: add it to monk's secret store as postgres_password before running",
        "visualizer stop_grace_period: monk stops containers with its own timeout",
        "visualizer deploy.placement: monk places runnables itself; placement constraints and preferences are ignored",
        "payment_gateway deploy.placement: monk places runnables itself; placement constraints and preferences are ignored",
        "payment_gateway secrets[0]: secret staging_token is external: add it to monk's secret store as staging_token before running",
      ]
    `);
  });
});
