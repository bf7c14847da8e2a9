import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { dnsRcodes, dnsTypes, encodeQuery, parseResponse } from './dns-message.ts';
import { parseResolvConf, startDnsServer, type DnsLookup, type DnsServer } from './dns-server.ts';

function udpAsk(port: number, message: Buffer, timeoutMs = 3_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no answer'));
    }, timeoutMs);
    socket.on('message', (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    });
    socket.send(message, port, '127.0.0.1');
  });
}

function tcpAsk(port: number, message: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let buffered = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('connect', () => {
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(message.length, 0);
      socket.write(Buffer.concat([prefix, message]));
    });
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        socket.end();
        resolve(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
      }
    });
  });
}

let nextId = 1;
const ask = async (
  server: DnsServer,
  name: string,
  options: { type?: number; transport?: 'udp' | 'tcp' } = {},
): Promise<ReturnType<typeof parseResponse>> => {
  const query = encodeQuery({ id: nextId++, name, type: options.type ?? dnsTypes.A });
  const port = server.address().port;
  return parseResponse(await (options.transport === 'tcp' ? tcpAsk(port, query) : udpAsk(port, query)));
};

const servers: DnsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(lookup: DnsLookup, upstreams: readonly string[] = []): Promise<DnsServer> {
  const server = await startDnsServer({ host: '127.0.0.1', port: 0, upstreams }, { lookup });
  servers.push(server);
  return server;
}

const instances = new Map<
  string,
  { addresses: string[]; services?: { name: string; protocol: 'tcp'; port: number }[] }
>([
  [
    'web.app.monk',
    {
      addresses: ['10.240.17.5', '10.240.18.3', '10.240.19.9', 'fd00::17:5'],
      services: [{ name: 'http', protocol: 'tcp', port: 8080 }],
    },
  ],
  ['db.app.monk', { addresses: [] }],
  ['web-1.web.app.monk', { addresses: ['10.240.17.5'] }],
]);
const lookup: DnsLookup = (name) => instances.get(name);

describe('startDnsServer: names under .monk', () => {
  it('answers a runnable name with every instance, rotating the order on each query, TTL 5 s', async () => {
    const server = await start(lookup);
    const first = await ask(server, 'web.app.monk');
    expect(first).toMatchObject({ rcode: dnsRcodes.NOERROR, authoritative: true, truncated: false });
    expect(first.answers.map((a) => a.data)).toEqual(['10.240.17.5', '10.240.18.3', '10.240.19.9']);
    expect(first.answers.every((a) => a.ttl === 5 && a.name === 'web.app.monk')).toBe(true);
    const second = await ask(server, 'WEB.App.monk.');
    expect(second.answers.map((a) => a.data)).toEqual(['10.240.18.3', '10.240.19.9', '10.240.17.5']);
    const third = await ask(server, 'web.app.monk', { transport: 'tcp' });
    expect(third.answers[0]?.data).toBe('10.240.19.9');
  });

  it('answers AAAA with the IPv6 addresses and a container-level name with its own address', async () => {
    const server = await start(lookup);
    expect((await ask(server, 'web.app.monk', { type: dnsTypes.AAAA })).answers.map((a) => a.data)).toEqual([
      'fd00:0:0:0:0:0:17:5',
    ]);
    expect((await ask(server, 'web-1.web.app.monk')).answers.map((a) => a.data)).toEqual(['10.240.17.5']);
  });

  it('answers SRV with the named port and the addresses as additional records', async () => {
    const server = await start(lookup);
    const reply = await ask(server, '_http._tcp.web.app.monk', { type: dnsTypes.SRV });
    expect(reply.answers.map((a) => a.data)).toEqual(['0 10 8080 web.app.monk']);
    expect((await ask(server, '_ssh._tcp.web.app.monk', { type: dnsTypes.SRV })).answers).toEqual([]);
  });

  it('says NXDOMAIN for an unknown name and NOERROR with no records for a runnable with no ready instance', async () => {
    const server = await start(lookup);
    expect(await ask(server, 'nope.app.monk')).toMatchObject({ rcode: dnsRcodes.NXDOMAIN, answers: [] });
    expect(await ask(server, 'db.app.monk')).toMatchObject({ rcode: dnsRcodes.NOERROR, answers: [] });
  });

  it('follows the lookup: an instance that is gone leaves the next answer', async () => {
    const live = new Map([['api.app.monk', ['10.240.17.7', '10.240.18.7']]]);
    const server = await start((name) => {
      const addresses = live.get(name);
      return addresses === undefined ? undefined : { addresses };
    });
    expect((await ask(server, 'api.app.monk')).answers).toHaveLength(2);
    live.set('api.app.monk', ['10.240.18.7']);
    expect((await ask(server, 'api.app.monk')).answers.map((a) => a.data)).toEqual(['10.240.18.7']);
  });

  it('truncates a long answer over UDP and gives it whole over TCP', async () => {
    const many = Array.from({ length: 100 }, (_, i) => `10.240.${17 + (i % 50)}.${i + 2}`);
    const server = await start((name) => (name === 'big.app.monk' ? { addresses: many } : undefined));
    expect(await ask(server, 'big.app.monk')).toMatchObject({ truncated: true, answers: [] });
    expect((await ask(server, 'big.app.monk', { transport: 'tcp' })).answers).toHaveLength(100);
  });

  it('answers FORMERR to a message it cannot read and keeps serving', async () => {
    const server = await start(lookup);
    const garbage = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x3f, 0x61]);
    const reply = parseResponse(await udpAsk(server.address().port, garbage));
    expect(reply).toMatchObject({ id: 0x1234, rcode: dnsRcodes.FORMERR });
    expect((await ask(server, 'web.app.monk')).rcode).toBe(dnsRcodes.NOERROR);
  });
});

describe('startDnsServer: other names', () => {
  it('forwards them to the upstream resolver, over UDP and TCP', async () => {
    const upstream = await startDnsServer(
      { host: '127.0.0.1', port: 0, zone: 'example.com', upstreams: [] },
      { lookup: (name) => (name === 'www.example.com' ? { addresses: ['93.184.215.14'] } : undefined) },
    );
    servers.push(upstream);
    const server = await start(lookup, [`127.0.0.1:${upstream.address().port}`]);
    expect((await ask(server, 'www.example.com')).answers.map((a) => a.data)).toEqual(['93.184.215.14']);
    expect((await ask(server, 'www.example.com', { transport: 'tcp' })).answers.map((a) => a.data)).toEqual([
      '93.184.215.14',
    ]);
    expect((await ask(server, 'missing.example.com')).rcode).toBe(dnsRcodes.NXDOMAIN);
  });

  it('tries the next upstream when one is silent, and says SERVFAIL when none answers', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    const silentAt = `127.0.0.1:${silent.address().port}`;
    try {
      const upstream = await startDnsServer(
        { host: '127.0.0.1', port: 0, zone: 'example.com', upstreams: [] },
        { lookup: () => ({ addresses: ['192.0.2.1'] }) },
      );
      servers.push(upstream);
      const server = await startDnsServer(
        {
          host: '127.0.0.1',
          port: 0,
          upstreams: [silentAt, `127.0.0.1:${upstream.address().port}`],
          forwardTimeoutMs: 200,
        },
        { lookup },
      );
      servers.push(server);
      expect((await ask(server, 'a.example.com')).answers.map((a) => a.data)).toEqual(['192.0.2.1']);
      const lonely = await startDnsServer(
        { host: '127.0.0.1', port: 0, upstreams: [silentAt], forwardTimeoutMs: 200 },
        { lookup },
      );
      servers.push(lonely);
      expect((await ask(lonely, 'a.example.com')).rcode).toBe(dnsRcodes.SERVFAIL);
    } finally {
      silent.close();
    }
  });

  it('refuses them when it has no upstream', async () => {
    const server = await start(lookup, []);
    expect((await ask(server, 'www.example.com')).rcode).toBe(dnsRcodes.REFUSED);
  });
});

describe('parseResolvConf', () => {
  it.each([
    ['nameserver 10.255.255.53\n', ['10.255.255.53']],
    [
      '# comment\nsearch lan\nnameserver 1.1.1.1 # primary\nnameserver fe80::1%eth0\noptions ndots:2\n',
      ['1.1.1.1', 'fe80::1'],
    ],
    ['nameserver not-an-ip\nnameserver\n', []],
  ])('%j', (text, expected) => {
    expect(parseResolvConf(text)).toEqual(expected);
  });
});
