import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { MonkError, operatorAccessLevels } from '@monk/model';
import { readDataJson, writeDataFile } from '../data-file.ts';

const clusterConfigSchema = z.object({
  clusterId: z.string().min(1),
  clusterName: z.string().min(1),
  /** The cluster's network key in its printable form. Secret: the file is mode 0600. */
  networkKey: z.string().min(1),
  createdAt: z.string(),
  /**
   * The other peers as this peer last knew them. The graph holds them too, but a peer whose graph was
   * damaged must still find and admit its neighbours to recover it from them.
   */
  knownPeers: z.array(z.object({ id: z.string(), addresses: z.array(z.string()) })).optional(),
});
export type ClusterConfig = z.infer<typeof clusterConfigSchema>;

const issuedTokenSchema = z.object({
  secretHash: z.string(),
  role: z.enum(['peer', 'operator']),
  /**
   * Operator tokens: the access the operator gets when it redeems the token. Kept here, never read from
   * the token, so a holder cannot raise it. Missing on tokens issued before access levels (then `deploy`).
   */
  access: z.enum(operatorAccessLevels).optional(),
  expiresAt: z.string(),
  issuedAt: z.string(),
  usedBy: z.string().optional(),
  usedAt: z.string().optional(),
});
export type IssuedToken = z.infer<typeof issuedTokenSchema>;

/** The cluster this peer belongs to (`<data-dir>/cluster.json`), or undefined when it is on its own. */
export async function readClusterConfig(dataDir: string): Promise<ClusterConfig | undefined> {
  const path = join(dataDir, 'cluster.json');
  const value = await readDataJson(path);
  if (value === undefined) return undefined;
  const parsed = clusterConfigSchema.safeParse(value);
  if (!parsed.success)
    throw new MonkError('DATA_FILE_INVALID', `${path} is malformed: ${parsed.error.message}`, {
      details: { file: path },
    });
  return parsed.data;
}

export async function writeClusterConfig(dataDir: string, config: ClusterConfig): Promise<void> {
  await writeDataFile(join(dataDir, 'cluster.json'), JSON.stringify(config, null, 2));
}

export async function removeClusterConfig(dataDir: string): Promise<void> {
  await rm(join(dataDir, 'cluster.json'), { force: true });
  await rm(join(dataDir, 'join-tokens.json'), { force: true });
}

/**
 * The join tokens this peer issued (`<data-dir>/join-tokens.json`), by the hash of their secret. A
 * token's HMAC only proves it was made with the network key, which every holder of any token has: the
 * ledger is what makes a token single-use and unforgeable. Only the issuing peer can redeem it.
 */
export interface TokenLedger {
  issue(token: Omit<IssuedToken, 'usedBy' | 'usedAt'>): Promise<void>;
  /** Marks a token used by `peerId`; throws JOIN_TOKEN_INVALID (unknown), _EXPIRED or _USED. */
  redeem(options: { secretHash: string; peerId: string; now: Date }): Promise<IssuedToken>;
}

export function createTokenLedger(dataDir: string): TokenLedger {
  const path = join(dataDir, 'join-tokens.json');
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };
  const load = async (): Promise<IssuedToken[]> => {
    const value = await readDataJson(path);
    if (value === undefined) return [];
    const parsed = z.array(issuedTokenSchema).safeParse(value);
    if (!parsed.success)
      throw new MonkError('DATA_FILE_INVALID', `${path} is malformed: ${parsed.error.message}`, {
        details: { file: path },
      });
    return parsed.data;
  };
  return {
    issue: (token) =>
      serial(async () => {
        const now = Date.now();
        // Expired tokens are kept a day for clear "expired" errors, then dropped.
        const kept = (await load()).filter((t) => Date.parse(t.expiresAt) > now - 86_400_000);
        await writeDataFile(path, JSON.stringify([...kept, token], null, 2));
      }),
    redeem: ({ secretHash, peerId, now }) =>
      serial(async () => {
        const tokens = await load();
        const token = tokens.find((t) => t.secretHash === secretHash);
        if (token === undefined) {
          throw new MonkError('JOIN_TOKEN_INVALID', 'this peer did not issue that join token');
        }
        if (token.usedBy !== undefined) {
          throw new MonkError(
            'JOIN_TOKEN_USED',
            `the join token was already used (by ${token.usedBy} at ${token.usedAt ?? '?'})`,
          );
        }
        if (Date.parse(token.expiresAt) <= now.getTime()) {
          throw new MonkError('JOIN_TOKEN_EXPIRED', `the join token expired at ${token.expiresAt}`);
        }
        const used = { ...token, usedBy: peerId, usedAt: now.toISOString() };
        await writeDataFile(
          path,
          JSON.stringify(
            tokens.map((t) => (t === token ? used : t)),
            null,
            2,
          ),
        );
        return used;
      }),
  };
}
