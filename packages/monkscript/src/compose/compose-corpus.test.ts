import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { importCompose, type ComposeImport, type ImportComposeOptions } from './import-compose.ts';
import { corpusDir, documentOf, loadSchema, overlayFiles, runnableNames, runnableOf } from './test-files.ts';

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

describe('the Compose corpus', () => {
  it('prints', async () => {
    for (const [name, options] of [
      ['nginx-flask-mysql', {}],
      ['react-express-mongodb', {}],
      ['wordpress-mysql', {}],
      ['prometheus-grafana', {}],
      ['traefik-golang', {}],
      ['elasticsearch-logstash-kibana', {}],
      ['minecraft', { homeDir: '/home/player' }],
      ['plex', { environment: { PLEX_MEDIA_PATH: '/srv/media' } }],
      [
        'pihole-cloudflared-doh',
        {
          environment: {
            TIMEZONE: 'Europe/Riga',
            PIHOLE_PW: 'pw',
            PIHOLE_ROUTER_IP: '192.168.1.1',
            PIHOLE_NETWORK_DOMAIN: 'lan',
            PIHOLE_REVERSE_DNS: '192.168.1.0/24',
            PIHOLE_HOST_IP: '192.168.1.2',
            PIHOLE_HOST_IPV6: '',
          },
        },
      ],
      ['zabbix', { virtual: zabbixFiles }],
      [
        'dogvscat-elk-stack',
        {
          virtual: {
            'docker-elk/elasticsearch/config/elasticsearch.yml': 'cluster.name: elk\n',
            'docker-elk/logstash/config/logstash.yml': 'http.host: 0.0.0.0\n',
            'logstash.conf': 'input { tcp { port => 5000 } }\n',
            'docker-elk/kibana/config/kibana.yml': 'server.name: kibana\n',
          },
        },
      ],
      ['atsea-swarm-stack', {}],
    ] as const) {
      const result = await importCorpus(name, options);
      console.log(
        name,
        result.namespace,
        JSON.stringify(group(result)),
        JSON.stringify(summarize(result), null, 2),
        JSON.stringify(warningLines(result), null, 2),
        JSON.stringify(result.secrets),
      );
    }
  });
});
