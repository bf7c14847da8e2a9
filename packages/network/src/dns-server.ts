import { createSocket, type Socket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { connect, createServer, isIPv4, isIPv6, type Socket as TcpSocket } from 'node:net';
import { MonkError } from '@monk/model';
import {
  dnsRcodes,
  dnsTypes,
  encodeError,
  encodeResponse,
  messageId,
  parseQuery,
  type DnsQuery,
  type DnsRecord,
  type DnsResponse,
} from './dns-message.ts';

/** A named port of a workload, answered as SRV for `_<name>._<protocol>.<host>`. */
export interface DnsService {
  readonly name: string;
  readonly protocol: 'tcp' | 'udp';
  readonly port: number;
}

/** What a name under the zone stands for: its current addresses (IPv4 and IPv6) and named ports. */
export interface DnsRecords {
  readonly addresses: readonly string[];
  readonly services?: readonly DnsService[];
}

/**
 * Answers for names under the zone, asked on every query (so answers follow the cluster within a TTL).
 * Gets the lower-case name without a trailing dot (`web.app.monk`); returns undefined for a name that does
 * not exist (→ NXDOMAIN), and `{ addresses: [] }` for one that exists with no ready instance.
 */
export type DnsLookup = (name: string) => DnsRecords | undefined | Promise<DnsRecords | undefined>;

/** Structured log lines, never secrets; monkd passes its logger. */
export interface DnsLogger {
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

export interface DnsServerOptions {
  /** Address to listen on (UDP and TCP), e.g. the bridge gateway; default 127.0.0.1. */
  readonly host?: string;
  /** Port (UDP and TCP); 0 picks a free one (see {@link DnsServer.address}); default 53. */
  readonly port?: number;
  /** The zone answered here; default `monk`. */
  readonly zone?: string;
  /** TTL of answers and of negative answers; default 5 s, so a killed instance leaves answers quickly. */
  readonly ttlSeconds?: number;
  /**
   * Where names outside the zone go: `IP` or `IP:port` (`[IPv6]:port`). Default: the host's resolvers from
   * /etc/resolv.conf (see {@link readHostResolvers}). Empty: names outside the zone are REFUSED.
   */
  readonly upstreams?: readonly string[];
  /** How long one upstream gets before the next is asked; default 2000 ms. */
  readonly forwardTimeoutMs?: number;
}

export interface DnsServer {
  /** Where it listens, once started. */
  address(): { host: string; port: number };
  /** Stops listening and closes open TCP connections. */
  close(): Promise<void>;
}

interface Upstream {
  readonly host: string;
  readonly port: number;
}

const silent: DnsLogger = { debug: () => undefined, warn: () => undefined };

/**
 * Starts a small DNS server, over UDP and TCP on the same port: authoritative for `zone` (A, AAAA, SRV and
 * ANY from `lookup`, addresses rotated by one on every query so clients spread over instances, NXDOMAIN
 * with the zone's SOA for unknown names), forwarding every other name unchanged to the upstreams in turn
 * (SERVFAIL when none answers).
 *
 * @throws the socket's error when the address cannot be bound (`EADDRINUSE`, `EACCES` below 1024 without
 *   privilege).
 * @example
 * const dns = await startDnsServer(
 *   { host: '10.240.16.1', port: 53 },
 *   { lookup: (name) => (name === 'web.app.monk' ? { addresses: ['10.240.17.5', '10.240.18.3'] } : undefined) },
 * );
 * await dns.close();
 */
export async function startDnsServer(
  options: DnsServerOptions,
  components: { lookup: DnsLookup; logger?: DnsLogger },
): Promise<DnsServer> {
  const host = options.host ?? '127.0.0.1';
  const zone = (options.zone ?? 'monk').toLowerCase().replace(/\.$/, '');
  const ttl = options.ttlSeconds ?? 5;
  const forwardTimeoutMs = options.forwardTimeoutMs ?? 2_000;
  const logger = components.logger ?? silent;
  const rotation = new Map<string, number>();
  const family = isIPv6(host) ? 'udp6' : 'udp4';

  const udp = createSocket({ type: family, reuseAddr: false });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(options.port ?? 53, host, () => {
      udp.off('error', reject);
      resolve();
    });
  });
  const port = udp.address().port;
  const tcp = createServer({ pauseOnConnect: false });
  try {
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen({ host, port, backlog: 128 }, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    udp.close();
    throw error;
  }
  const upstreams = (options.upstreams ?? (await readHostResolvers()))
    .map(parseUpstream)
    .filter((u) => !(u.host === host && u.port === port));

  const soa: DnsRecord = {
    type: 'SOA',
    name: zone,
    ttl,
    mname: `ns.${zone}`,
    rname: `hostmaster.${zone}`,
    serial: 1,
    minimum: ttl,
  };

  function inZone(name: string): boolean {
    return name === zone || name.endsWith(`.${zone}`);
  }

  /** The addresses of one family, turned by one more on each query for `name`. */
  function rotate(turn: number, addresses: readonly string[]): string[] {
    const start = addresses.length === 0 ? 0 : turn % addresses.length;
    return [...addresses.slice(start), ...addresses.slice(0, start)];
  }

  async function answer(query: DnsQuery): Promise<DnsResponse> {
    const question = query.questions[0];
    if (question === undefined) return { rcode: dnsRcodes.FORMERR, answers: [] };
    if (query.opcode !== 0) return { rcode: dnsRcodes.NOTIMP, answers: [] };
    const { name, type } = question;
    const srv = type === dnsTypes.SRV ? /^_([^.]+)\._(tcp|udp)\.(.+)$/.exec(name) : null;
    const target = srv?.[3] ?? name;
    const records = target === zone ? { addresses: [] } : await components.lookup(target);
    if (records === undefined) return { rcode: dnsRcodes.NXDOMAIN, answers: [], authority: [soa] };
    const turn = rotation.get(target) ?? 0;
    if (rotation.size >= 10_000) rotation.clear();
    rotation.set(target, turn + 1);
    const v4 = rotate(
      turn,
      records.addresses.filter((x) => isIPv4(x)),
    );
    const v6 = rotate(
      turn,
      records.addresses.filter((x) => isIPv6(x)),
    );
    const a = (n: string): DnsRecord[] => v4.map((address) => ({ type: 'A', name: n, ttl, address }));
    const aaaa = (n: string): DnsRecord[] => v6.map((address) => ({ type: 'AAAA', name: n, ttl, address }));
    let answers: DnsRecord[] = [];
    let additional: DnsRecord[] = [];
    if (type === dnsTypes.A) answers = a(name);
    else if (type === dnsTypes.AAAA) answers = aaaa(name);
    else if (type === dnsTypes.ANY) answers = [...a(name), ...aaaa(name)];
    else if (srv !== null) {
      answers = (records.services ?? [])
        .filter((s) => s.name.toLowerCase() === srv[1] && s.protocol === srv[2])
        .map((s) => ({ type: 'SRV', name, ttl, priority: 0, weight: 10, port: s.port, target }));
      if (answers.length > 0) additional = [...a(target), ...aaaa(target)];
    }
    return answers.length === 0
      ? { rcode: dnsRcodes.NOERROR, answers: [], authority: [soa] }
      : { rcode: dnsRcodes.NOERROR, answers, additional };
  }

  async function respond(message: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    let query: DnsQuery;
    try {
      query = parseQuery(message);
    } catch (error) {
      logger.debug('unreadable DNS query', { error: (error as Error).message });
      return encodeError(message, dnsRcodes.FORMERR);
    }
    const name = query.questions[0]?.name;
    if (name !== undefined && !inZone(name)) {
      if (upstreams.length === 0) return encodeResponse(query, { rcode: dnsRcodes.REFUSED, answers: [] });
      return forward(message, transport);
    }
    try {
      const response = await answer(query);
      const limit =
        transport === 'tcp' ? 65_535 : Math.max(512, Math.min(query.ednsPayloadSize ?? 512, 1232));
      return encodeResponse(query, response, limit);
    } catch (error) {
      logger.warn('DNS lookup failed', { name, error: (error as Error).message });
      return encodeError(message, dnsRcodes.SERVFAIL);
    }
  }

  async function forward(message: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    for (const upstream of upstreams) {
      try {
        return transport === 'udp'
          ? await forwardUdp(message, upstream, forwardTimeoutMs)
          : await forwardTcp(message, upstream, forwardTimeoutMs);
      } catch (error) {
        logger.debug('upstream resolver did not answer', {
          upstream: `${upstream.host}:${upstream.port}`,
          error: (error as Error).message,
        });
      }
    }
    return encodeError(message, dnsRcodes.SERVFAIL);
  }

  udp.on('message', (message, from) => {
    void respond(message, 'udp').then((reply) => {
      if (reply !== undefined) udp.send(reply, from.port, from.address);
    });
  });
  udp.on('error', (error) => logger.warn('DNS socket error', { error: error.message }));

  const connections = new Set<TcpSocket>();
  tcp.on('connection', (socket) => {
    connections.add(socket);
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) break;
        const message = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        void respond(Buffer.from(message), 'tcp').then((reply) => {
          if (reply === undefined || socket.destroyed) return;
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(reply.length, 0);
          socket.write(Buffer.concat([prefix, reply]));
        });
      }
    });
  });

  return {
    address: () => ({ host, port }),
    async close() {
      for (const socket of connections) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

function forwardUdp(message: Buffer, upstream: Upstream, timeoutMs: number): Promise<Buffer> {
  const id = messageId(message);
  return new Promise((resolve, reject) => {
    // A fresh socket (random source port) per query: an off-path attacker has to guess port and id.
    const socket: Socket = createSocket(isIPv6(upstream.host) ? 'udp6' : 'udp4');
    const done = (fn: () => void): void => {
      clearTimeout(timer);
      socket.close();
      fn();
    };
    const timer = setTimeout(() => done(() => reject(new MonkError('TIMEOUT', 'no answer'))), timeoutMs);
    socket.on('error', (error) => done(() => reject(error)));
    socket.on('message', (reply, from) => {
      if (from.address !== upstream.host || from.port !== upstream.port || messageId(reply) !== id) return;
      done(() => resolve(reply));
    });
    socket.send(message, upstream.port, upstream.host);
  });
}

function forwardTcp(message: Buffer, upstream: Upstream, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: upstream.host, port: upstream.port });
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new MonkError('TIMEOUT', 'no answer'));
    }, timeoutMs);
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('connect', () => {
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(message.length, 0);
      socket.write(Buffer.concat([prefix, message]));
    });
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        clearTimeout(timer);
        socket.end();
        resolve(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
      }
    });
  });
}

function parseUpstream(text: string): Upstream {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (bracketed !== null) return { host: bracketed[1] ?? '', port: Number(bracketed[2]) };
  if (isIPv6(text) || isIPv4(text)) return { host: text, port: 53 };
  const [hostPart = '', portPart] = text.split(':');
  if (isIPv4(hostPart) && portPart !== undefined && /^\d+$/.test(portPart)) {
    return { host: hostPart, port: Number(portPart) };
  }
  throw new MonkError('INVALID_REQUEST', `${JSON.stringify(text)} is not a resolver address (IP or IP:port)`);
}

/**
 * The `nameserver` addresses of a resolv.conf text, in order (IPv6 zone suffixes dropped, which a UDP socket
 * cannot use without an interface).
 */
export function parseResolvConf(text: string): string[] {
  return text
    .split('\n')
    .map((line) =>
      line
        .replace(/[#;].*$/, '')
        .trim()
        .split(/\s+/),
    )
    .filter((words) => words[0] === 'nameserver' && words[1] !== undefined)
    .map((words) => (words[1] ?? '').replace(/%.*$/, ''))
    .filter((address) => isIPv4(address) || isIPv6(address));
}

/** The host's resolvers from `/etc/resolv.conf` (or `path`); none when the file is missing. */
export async function readHostResolvers(path = '/etc/resolv.conf'): Promise<string[]> {
  try {
    return parseResolvConf(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
