import { randomBytes } from 'node:crypto';
import { MonkError } from '@monk/model';

/** Length of a cluster network key in bytes. */
export const networkKeyLength = 32;

/**
 * A fresh random 32-byte cluster network key (the libp2p private-network pre-shared key). Whoever holds it can
 * complete a handshake with the cluster's nodes; the allow-list still decides who is a member.
 *
 * @example
 * const key = generateNetworkKey();
 * const printable = encodeNetworkKey(key); // store in the cluster context or a join token
 */
export function generateNetworkKey(): Uint8Array {
  return new Uint8Array(randomBytes(networkKeyLength));
}

/** The printable form of a network key: 43 characters of base64url. Throws `INVALID_REQUEST` on a bad length. */
export function encodeNetworkKey(key: Uint8Array): string {
  assertNetworkKey(key);
  return Buffer.from(key).toString('base64url');
}

/**
 * Reads the printable form back. Throws `INVALID_REQUEST` when the text is not base64url of exactly 32 bytes.
 *
 * @example
 * const key = decodeNetworkKey(context.networkKey);
 */
export function decodeNetworkKey(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) {
    throw new MonkError('INVALID_REQUEST', 'a network key is base64url text of 32 bytes');
  }
  const key = new Uint8Array(Buffer.from(text, 'base64url'));
  assertNetworkKey(key);
  return key;
}

export function assertNetworkKey(key: Uint8Array): void {
  if (key.byteLength !== networkKeyLength) {
    throw new MonkError(
      'INVALID_REQUEST',
      `a network key has ${String(networkKeyLength)} bytes, got ${String(key.byteLength)}`,
    );
  }
}

/** The key in the swarm-key file format that @libp2p/pnet reads. */
export function toSwarmKey(key: Uint8Array): Uint8Array {
  assertNetworkKey(key);
  return new TextEncoder().encode(`/key/swarm/psk/1.0.0/\n/base16/\n${Buffer.from(key).toString('hex')}`);
}
