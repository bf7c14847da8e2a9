import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { defaultRecoveryPolicy, type ObservedWorkload, type Workload } from '@monk/model';
import { dnsTypes, encodeQuery, parseResponse } from './dns-message.ts';
import { startDnsServer } from './dns-server.ts';
import { meshDnsRecords } from './mesh-dns-lookup.ts';

const workload = (runnable: string, container: string, replica = 0): Workload => ({
  id: `${runnable}#${container}${replica === 0 ? '' : `@${replica}`}`,
  deployment: runnable,
  runnable,
  container,
  name: `${runnable.replace('/', '-')}-${container}`,
  aliases: [],
  spec: { image: 'busybox', environment: {}, ports: [], mounts: [], files: [], labels: {} },
  specHash: 'h',
  dependsOn: [],
  recovery: defaultRecoveryPolicy,
  owner: `peer-${replica}`,
  state: 'running',
  generation: 1,
});

const observed = (id: string, ready: boolean, address?: string): ObservedWorkload => ({
  workloadId: id,
  peer: 'p',
  phase: ready ? 'ready' : 'starting',
  ready,
  restarts: 0,
  updatedAt: '2026-12-02T10:00:00.000Z',
  ...(address === undefined ? {} : { address }),
});

describe('meshDnsRecords', () => {
  const workloads = [
    workload('shop/Web_Front', 'nginx'),
    workload('shop/Web_Front', 'nginx', 1),
    workload('shop/Web_Front', 'php'),
    workload('shop/db', 'postgres'),
  ];
  const states = new Map([
    ['shop/Web_Front#nginx', observed('shop/Web_Front#nginx', true, '10.240.17.2')],
    ['shop/Web_Front#nginx@1', observed('shop/Web_Front#nginx@1', true, '10.240.18.2')],
    ['shop/Web_Front#php', observed('shop/Web_Front#php', true, '10.240.17.3')],
    ['shop/db#postgres', observed('shop/db#postgres', false, '10.240.18.3')],
  ]);
  const graph = { workloads, observed: (id: string) => states.get(id) };

  it('answers a runnable with the addresses of its ready instances wherever they run', () => {
    expect(meshDnsRecords('web-front.shop.monk', graph)).toEqual({
      addresses: ['10.240.17.2', '10.240.18.2', '10.240.17.3'],
    });
  });

  it('answers a container-level name with that container only', () => {
    expect(meshDnsRecords('php.web-front.shop.monk', graph)).toEqual({ addresses: ['10.240.17.3'] });
  });

  it('leaves out instances that are not ready, and knows no name without a workload', () => {
    expect(meshDnsRecords('db.shop.monk', graph)).toEqual({ addresses: [] });
    expect(meshDnsRecords('cache.shop.monk', graph)).toBeUndefined();
    expect(meshDnsRecords('example.com', graph)).toBeUndefined();
  });
});

describe('meshDnsRecords: SRV for services', () => {
  const http = { name: 'http', port: 8080, protocol: 'tcp' } as const;
  const metrics = { name: 'metrics', port: 9100, protocol: 'tcp' } as const;
  const syslog = { name: 'syslog', port: 514, protocol: 'udp' } as const;
  const workloads = [
    { ...workload('shop/web', 'nginx'), services: [http, metrics] },
    { ...workload('shop/web', 'nginx', 1), services: [http, metrics] },
    { ...workload('shop/web', 'logger'), services: [syslog] },
  ];
  const states = new Map([
    ['shop/web#nginx', observed('shop/web#nginx', true, '10.240.17.2')],
    ['shop/web#nginx@1', observed('shop/web#nginx@1', true, '10.240.18.2')],
    ['shop/web#logger', observed('shop/web#logger', true, '10.240.17.3')],
  ]);
  const graph = { workloads, observed: (id: string) => states.get(id) };

  it('gives a runnable the services of all its containers, once each, and a container its own', () => {
    expect(meshDnsRecords('web.shop.monk', graph)?.services).toEqual([http, metrics, syslog]);
    expect(meshDnsRecords('logger.web.shop.monk', graph)?.services).toEqual([syslog]);
  });

  it('answers `_<service>._<protocol>.<runnable>.<namespace>.monk` through the DNS server', async () => {
    const server = await startDnsServer(
      { host: '127.0.0.1', port: 0, upstreams: [] },
      { lookup: (name) => meshDnsRecords(name, graph) },
    );
    try {
      const ask = (name: string) =>
        new Promise<ReturnType<typeof parseResponse>>((resolve, reject) => {
          const socket = createSocket('udp4');
          const timer = setTimeout(() => {
            socket.close();
            reject(new Error(`no answer for ${name}`));
          }, 3_000);
          socket.on('message', (reply) => {
            clearTimeout(timer);
            socket.close();
            resolve(parseResponse(reply));
          });
          socket.send(encodeQuery({ id: 7, name, type: dnsTypes.SRV }), server.address().port, '127.0.0.1');
        });
      expect((await ask('_http._tcp.web.shop.monk')).answers.map((a) => a.data)).toEqual([
        '0 10 8080 web.shop.monk',
      ]);
      expect((await ask('_syslog._udp.logger.web.shop.monk')).answers.map((a) => a.data)).toEqual([
        '0 10 514 logger.web.shop.monk',
      ]);
      expect((await ask('_syslog._tcp.web.shop.monk')).answers).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
