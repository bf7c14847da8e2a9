import { isIPv4, isIPv6 } from 'node:net';
import { MonkError } from '@monk/model';

/** Record types this server answers (RFC 1035, 3596, 2782) and the EDNS pseudo-record (RFC 6891). */
export const dnsTypes = { A: 1, NS: 2, SOA: 6, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 } as const;
export const dnsRcodes = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface DnsQuestion {
  /** Lower-case, without the trailing dot (`web.app.monk`). */
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

export interface DnsQuery {
  readonly id: number;
  readonly opcode: number;
  readonly recursionDesired: boolean;
  readonly questions: readonly DnsQuestion[];
  /** The UDP payload size the client's EDNS record allows, when it sent one. */
  readonly ednsPayloadSize?: number | undefined;
}

export type DnsRecord =
  | { readonly type: 'A' | 'AAAA'; readonly name: string; readonly ttl: number; readonly address: string }
  | {
      readonly type: 'SRV';
      readonly name: string;
      readonly ttl: number;
      readonly priority: number;
      readonly weight: number;
      readonly port: number;
      readonly target: string;
    }
  | {
      readonly type: 'SOA';
      readonly name: string;
      readonly ttl: number;
      readonly mname: string;
      readonly rname: string;
      readonly serial: number;
      readonly minimum: number;
    };

export interface DnsResponse {
  readonly rcode: number;
  readonly answers: readonly DnsRecord[];
  readonly authority?: readonly DnsRecord[];
  readonly additional?: readonly DnsRecord[];
}

const malformed = (why: string): MonkError =>
  new MonkError('PROTOCOL_ERROR', `malformed DNS message: ${why}`);

/** The id of a message, or undefined when it is shorter than a header. */
export function messageId(message: Uint8Array): number | undefined {
  return message.length < 12 ? undefined : ((message[0] ?? 0) << 8) | (message[1] ?? 0);
}

/**
 * Reads a query: header, questions, and the EDNS payload size from the additional section.
 *
 * @throws MonkError `PROTOCOL_ERROR` for a message that is not a well-formed query.
 */
export function parseQuery(message: Uint8Array): DnsQuery {
  const view = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  if (view.length < 12) throw malformed('shorter than a header');
  const flags = view.readUInt16BE(2);
  if ((flags & 0x8000) !== 0) throw malformed('a response, not a query');
  const counts = [4, 6, 8, 10].map((at) => view.readUInt16BE(at)) as [number, number, number, number];
  let offset = 12;
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < counts[0]; i += 1) {
    const [name, next] = readName(view, offset);
    if (next + 4 > view.length) throw malformed('question cut short');
    questions.push({ name, type: view.readUInt16BE(next), class: view.readUInt16BE(next + 2) });
    offset = next + 4;
  }
  let ednsPayloadSize: number | undefined;
  for (let i = 0; i < counts[1] + counts[2] + counts[3]; i += 1) {
    const [, next] = readName(view, offset);
    if (next + 10 > view.length) throw malformed('record cut short');
    const type = view.readUInt16BE(next);
    const length = view.readUInt16BE(next + 8);
    if (type === dnsTypes.OPT) ednsPayloadSize = view.readUInt16BE(next + 2);
    offset = next + 10 + length;
    if (offset > view.length) throw malformed('record data cut short');
  }
  return {
    id: view.readUInt16BE(0),
    opcode: (flags >> 11) & 0xf,
    recursionDesired: (flags & 0x0100) !== 0,
    questions,
    ...(ednsPayloadSize === undefined ? {} : { ednsPayloadSize }),
  };
}

function readName(view: Buffer, start: number): [string, number] {
  const labels: string[] = [];
  let offset = start;
  let end: number | undefined;
  for (let jumps = 0; ;) {
    if (offset >= view.length) throw malformed('name runs past the end');
    const length = view[offset] ?? 0;
    if ((length & 0xc0) === 0xc0) {
      if (offset + 1 >= view.length) throw malformed('pointer cut short');
      end ??= offset + 2;
      offset = ((length & 0x3f) << 8) | (view[offset + 1] ?? 0);
      if ((jumps += 1) > 32) throw malformed('compression loop');
      continue;
    }
    if ((length & 0xc0) !== 0) throw malformed('unknown label type');
    if (length === 0) return [labels.join('.').toLowerCase(), end ?? offset + 1];
    if (offset + 1 + length > view.length) throw malformed('label runs past the end');
    labels.push(view.toString('latin1', offset + 1, offset + 1 + length));
    if (labels.join('.').length > 253) throw malformed('name longer than 253 characters');
    offset += 1 + length;
  }
}

function encodeName(name: string): Buffer {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  const labels = bare === '' ? [] : bare.split('.');
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'latin1');
    if (bytes.length === 0 || bytes.length > 63) throw malformed(`label ${JSON.stringify(label)} of ${name}`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function encodeRecord(record: DnsRecord): Buffer {
  let type: number;
  let data: Buffer;
  switch (record.type) {
    case 'A':
      type = dnsTypes.A;
      data = Buffer.from(record.address.split('.').map(Number));
      break;
    case 'AAAA':
      type = dnsTypes.AAAA;
      data = ipv6Bytes(record.address);
      break;
    case 'SRV': {
      type = dnsTypes.SRV;
      const fixed = Buffer.alloc(6);
      fixed.writeUInt16BE(record.priority, 0);
      fixed.writeUInt16BE(record.weight, 2);
      fixed.writeUInt16BE(record.port, 4);
      data = Buffer.concat([fixed, encodeName(record.target)]);
      break;
    }
    case 'SOA': {
      type = dnsTypes.SOA;
      const times = Buffer.alloc(20);
      // serial, refresh, retry, expire, minimum (the negative-caching TTL)
      [record.serial, 3600, 600, 86400, record.minimum].forEach((v, i) =>
        times.writeUInt32BE(v >>> 0, i * 4),
      );
      data = Buffer.concat([encodeName(record.mname), encodeName(record.rname), times]);
      break;
    }
  }
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(1, 2);
  fixed.writeUInt32BE(record.ttl >>> 0, 4);
  fixed.writeUInt16BE(data.length, 8);
  return Buffer.concat([encodeName(record.name), fixed, data]);
}

function ipv6Bytes(address: string): Buffer {
  if (!isIPv6(address)) throw malformed(`${address} is not an IPv6 address`);
  const [head = '', tail] = address.split('::') as [string, string | undefined];
  const groups = (text: string): string[] => (text === '' ? [] : text.split(':'));
  const expand = (parts: string[]): number[] =>
    parts.flatMap((p) => {
      if (!isIPv4(p)) return [parseInt(p, 16)];
      const [a = 0, b = 0, c = 0, d = 0] = p.split('.').map(Number);
      return [(a << 8) | b, (c << 8) | d];
    });
  const left = expand(groups(head));
  const right = tail === undefined ? [] : expand(groups(tail));
  const all = [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/**
 * Writes the response to `query`: its id, opcode and questions, AA (this server is the authority for what
 * it answers itself), RD copied, RA set. When the message would exceed `maxBytes` (512 for UDP without
 * EDNS), the records are dropped and TC is set so the client retries over TCP.
 */
export function encodeResponse(query: DnsQuery, response: DnsResponse, maxBytes = 65_535): Buffer {
  const header = (flags: number, counts: readonly number[]): Buffer => {
    const out = Buffer.alloc(12);
    out.writeUInt16BE(query.id, 0);
    out.writeUInt16BE(flags, 2);
    counts.forEach((c, i) => out.writeUInt16BE(c, 4 + i * 2));
    return out;
  };
  const questions = query.questions.map((q) => {
    const fixed = Buffer.alloc(4);
    fixed.writeUInt16BE(q.type, 0);
    fixed.writeUInt16BE(q.class, 2);
    return Buffer.concat([encodeName(q.name), fixed]);
  });
  const opt =
    query.ednsPayloadSize === undefined
      ? []
      : [Buffer.from([0, 0, dnsTypes.OPT, 0x04, 0xd0, 0, 0, 0, 0, 0, 0])]; // payload size 1232
  const flags =
    0x8000 | (query.opcode << 11) | 0x0400 | (query.recursionDesired ? 0x0100 : 0) | 0x0080 | response.rcode;
  const answers = response.answers.map(encodeRecord);
  const authority = (response.authority ?? []).map(encodeRecord);
  const additional = (response.additional ?? []).map(encodeRecord);
  const full = Buffer.concat([
    header(flags, [questions.length, answers.length, authority.length, additional.length + opt.length]),
    ...questions,
    ...answers,
    ...authority,
    ...additional,
    ...opt,
  ]);
  if (full.length <= maxBytes) return full;
  return Buffer.concat([header(flags | 0x0200, [questions.length, 0, 0, opt.length]), ...questions, ...opt]);
}

/** A response with no records: `FORMERR` for a query that could not be read, `SERVFAIL` when upstreams failed. */
export function encodeError(message: Uint8Array, rcode: number): Buffer | undefined {
  const id = messageId(message);
  if (id === undefined) return undefined;
  try {
    return encodeResponse(parseQuery(message), { rcode, answers: [] });
  } catch {
    return encodeResponse({ id, opcode: 0, recursionDesired: false, questions: [] }, { rcode, answers: [] });
  }
}

/** Reads what a test or a client needs of a response: rcode, flags, and the A/AAAA/SRV answers. */
export function parseResponse(message: Uint8Array): {
  id: number;
  rcode: number;
  truncated: boolean;
  authoritative: boolean;
  answers: { name: string; type: number; ttl: number; data: string }[];
} {
  const view = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  if (view.length < 12) throw malformed('shorter than a header');
  const flags = view.readUInt16BE(2);
  let offset = 12;
  for (let i = 0; i < view.readUInt16BE(4); i += 1) offset = readName(view, offset)[1] + 4;
  const answers: { name: string; type: number; ttl: number; data: string }[] = [];
  for (let i = 0; i < view.readUInt16BE(6); i += 1) {
    const [name, next] = readName(view, offset);
    const type = view.readUInt16BE(next);
    const ttl = view.readUInt32BE(next + 4);
    const length = view.readUInt16BE(next + 8);
    const start = next + 10;
    let data = view.subarray(start, start + length).toString('hex');
    if (type === dnsTypes.A) data = [...view.subarray(start, start + 4)].join('.');
    if (type === dnsTypes.AAAA)
      data = Array.from({ length: 8 }, (_, g) => view.readUInt16BE(start + g * 2).toString(16)).join(':');
    if (type === dnsTypes.SRV)
      data = `${view.readUInt16BE(start)} ${view.readUInt16BE(start + 2)} ${view.readUInt16BE(start + 4)} ${readName(view, start + 6)[0]}`;
    answers.push({ name, type, ttl, data });
    offset = start + length;
  }
  return {
    id: view.readUInt16BE(0),
    rcode: flags & 0xf,
    truncated: (flags & 0x0200) !== 0,
    authoritative: (flags & 0x0400) !== 0,
    answers,
  };
}

/** A query for `name` (tests, benches, health checks). */
export function encodeQuery(options: { id: number; name: string; type: number }): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(options.id, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  const fixed = Buffer.alloc(4);
  fixed.writeUInt16BE(options.type, 0);
  fixed.writeUInt16BE(1, 2);
  return Buffer.concat([header, encodeName(options.name), fixed]);
}
