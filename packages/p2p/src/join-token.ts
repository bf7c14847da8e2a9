import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { MonkError } from '@monk/model';
import { z } from 'zod';
import { assertNetworkKey, decodeNetworkKey, encodeNetworkKey } from './network-key.ts';

/** What a join token carries: everything a new host needs to reach the cluster and prove it was invited. */
export interface JoinToken {
  readonly clusterId: string;
  readonly clusterName: string;
  /** The cluster's 32-byte network key. */
  readonly networkKey: Uint8Array;
  /** Multiaddrs of current members, each ending in `/p2p/<peerId>`. */
  readonly addresses: readonly string[];
  readonly role: 'peer' | 'operator';
  /** ISO 8601 instant after which the token is refused. */
  readonly expiresAt: string;
  /** Random single-use secret; the daemon stores only {@link hashTokenSecret} of it. */
  readonly secret: string;
}

const prefix = 'monk1';

const payloadSchema = z.object({
  v: z.literal(1),
  clusterId: z.string().min(1),
  clusterName: z.string(),
  networkKey: z.string(),
  addresses: z.array(z.string()),
  role: z.enum(['peer', 'operator']),
  expiresAt: z.iso.datetime({ offset: true }),
  secret: z.string().min(16),
});

function sign(payload: string, networkKey: Uint8Array): Buffer {
  return createHmac('sha256', networkKey).update(`${prefix}.${payload}`).digest();
}

/** A fresh random token secret (256 bits, base64url). */
export function generateTokenSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The hash under which the daemon records a token secret (issued, then used): SHA-256, hex. Never store or log
 * the secret itself.
 */
export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/**
 * Encodes a join token as printable text: `monk1.<base64url JSON>.<base64url HMAC-SHA256>`, the HMAC keyed by
 * the network key. Throws `INVALID_REQUEST` on a bad network key, expiry or secret.
 *
 * The HMAC only proves the token was made by someone holding the network key and was not altered; anyone who
 * ever held a token holds that key. So the daemon must record `hashTokenSecret(secret)` of every token it
 * issues and accept only recorded, unexpired, unused secrets (marking them used on redemption).
 *
 * @example
 * const token = createJoinToken({
 *   clusterId, clusterName: 'prod', networkKey, addresses: node.addresses(), role: 'peer',
 *   expiresAt: new Date(Date.now() + 3_600_000).toISOString(), secret: generateTokenSecret(),
 * });
 */
export function createJoinToken(fields: JoinToken): string {
  assertNetworkKey(fields.networkKey);
  const payload = {
    v: 1 as const,
    clusterId: fields.clusterId,
    clusterName: fields.clusterName,
    networkKey: encodeNetworkKey(fields.networkKey),
    addresses: [...fields.addresses],
    role: fields.role,
    expiresAt: fields.expiresAt,
    secret: fields.secret,
  };
  const checked = payloadSchema.safeParse(payload);
  if (!checked.success) {
    throw new MonkError('INVALID_REQUEST', `cannot create a join token: ${checked.error.message}`);
  }
  const encoded = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${prefix}.${encoded}.${sign(encoded, fields.networkKey).toString('base64url')}`;
}

export interface ParseJoinTokenOptions {
  /** When given (on the daemon side), the token must carry exactly this cluster key. */
  readonly networkKey?: Uint8Array;
}

/**
 * Reads and checks a join token. Throws `JOIN_TOKEN_INVALID` when it is malformed, altered or for another
 * cluster (`options.networkKey`), and `JOIN_TOKEN_EXPIRED` when `now` is at or past its expiry. Single use is
 * the daemon's check, not this function's.
 *
 * @example
 * const token = parseJoinToken(text, new Date());
 * const node = await createP2PNode({ networkKey: token.networkKey, allowList: peerIdsOf(token.addresses), ... });
 */
export function parseJoinToken(text: string, now: Date, options: ParseJoinTokenOptions = {}): JoinToken {
  const invalid = (why: string, cause?: unknown): MonkError =>
    new MonkError(
      'JOIN_TOKEN_INVALID',
      `the join token is invalid: ${why}`,
      cause === undefined ? {} : { cause },
    );
  const parts = text.trim().split('.');
  const [tag, encoded, signature] = parts;
  if (parts.length !== 3 || tag !== prefix || encoded === undefined || signature === undefined) {
    throw invalid(`expected ${prefix}.<payload>.<signature>`);
  }
  let payload: z.infer<typeof payloadSchema>;
  let networkKey: Uint8Array;
  try {
    payload = payloadSchema.parse(JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')));
    networkKey = decodeNetworkKey(payload.networkKey);
  } catch (cause) {
    throw invalid('unreadable payload', cause);
  }
  const expected = sign(encoded, networkKey);
  const given = Buffer.from(signature, 'base64url');
  if (given.byteLength !== expected.byteLength || !timingSafeEqual(given, expected)) {
    throw invalid('its signature does not match its content');
  }
  if (options.networkKey !== undefined) {
    const mine = Buffer.from(options.networkKey);
    if (mine.byteLength !== networkKey.byteLength || !timingSafeEqual(mine, networkKey)) {
      throw invalid('it was issued for another cluster');
    }
  }
  if (now.getTime() >= Date.parse(payload.expiresAt)) {
    throw new MonkError('JOIN_TOKEN_EXPIRED', `the join token expired at ${payload.expiresAt}`);
  }
  return {
    clusterId: payload.clusterId,
    clusterName: payload.clusterName,
    networkKey,
    addresses: payload.addresses,
    role: payload.role,
    expiresAt: payload.expiresAt,
    secret: payload.secret,
  };
}
