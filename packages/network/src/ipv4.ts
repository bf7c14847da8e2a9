import { MonkError } from '@monk/model';

/** An IPv4 network: its first address as an unsigned 32-bit number and its prefix length. */
export interface Ipv4Cidr {
  readonly base: number;
  readonly prefix: number;
}

const octet = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** `10.1.2.3` → its unsigned 32-bit value. Throws `INVALID_REQUEST` for anything else. */
export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => octet.test(p))) {
    throw new MonkError('INVALID_REQUEST', `${JSON.stringify(text)} is not an IPv4 address`);
  }
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/**
 * `10.240.0.0/12` → `{ base, prefix }`. Throws `INVALID_REQUEST` when the text is not a CIDR or has host
 * bits set (`10.240.0.1/12`: a typo that would otherwise silently mean another network).
 */
export function parseCidr(text: string): Ipv4Cidr {
  const [address, length, ...rest] = text.split('/');
  if (address === undefined || length === undefined || rest.length > 0 || !/^\d{1,2}$/.test(length)) {
    throw new MonkError(
      'INVALID_REQUEST',
      `${JSON.stringify(text)} is not an IPv4 CIDR such as 10.240.0.0/12`,
    );
  }
  const prefix = Number(length);
  if (prefix > 32) throw new MonkError('INVALID_REQUEST', `${text}: a prefix length is at most 32`);
  const base = parseIpv4(address);
  if (base % 2 ** (32 - prefix) !== 0) {
    throw new MonkError(
      'INVALID_REQUEST',
      `${text} has host bits set; the network is ${formatCidr({ base: base - (base % 2 ** (32 - prefix)), prefix })}`,
    );
  }
  return { base, prefix };
}

export function formatCidr(cidr: Ipv4Cidr): string {
  return `${formatIpv4(cidr.base)}/${cidr.prefix}`;
}

/** True when the two networks share any address. */
export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  const aEnd = a.base + 2 ** (32 - a.prefix);
  const bEnd = b.base + 2 ** (32 - b.prefix);
  return a.base < bEnd && b.base < aEnd;
}

/** The first host address of a network, its gateway by convention: `10.240.16.0/24` → `10.240.16.1`. */
export function subnetGateway(cidr: string): string {
  return formatIpv4(parseCidr(cidr).base + 1);
}

/** True when `address` (an IPv4) lies in `cidr`; false for anything that does not parse. */
export function ipv4InCidr(address: string, cidr: string): boolean {
  try {
    const network = parseCidr(cidr);
    const value = parseIpv4(address);
    return value >= network.base && value < network.base + 2 ** (32 - network.prefix);
  } catch {
    return false;
  }
}
