import { link, mkdir, readFile, chmod, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { MonkError } from '@monk/model';
import { z } from 'zod';

/**
 * The long-lived identity of a node: an Ed25519 key pair whose public half is the peer id. Opaque: only this
 * package can read the private key out of it.
 */
export interface PeerIdentity {
  readonly peerId: string;
}

const privateKeys = new WeakMap<PeerIdentity, PrivateKey>();

const identityFileSchema = z.object({
  kind: z.literal('monk-peer-identity'),
  version: z.literal(1),
  peerId: z.string(),
  privateKey: z.string(),
});

function fromPrivateKey(privateKey: PrivateKey): PeerIdentity {
  const identity: PeerIdentity = Object.freeze({ peerId: peerIdFromPrivateKey(privateKey).toString() });
  privateKeys.set(identity, privateKey);
  return identity;
}

/** The private key inside an identity; throws `INVALID_REQUEST` for an object this package did not create. */
export function privateKeyOf(identity: PeerIdentity): PrivateKey {
  const privateKey = privateKeys.get(identity);
  if (privateKey === undefined) {
    throw new MonkError(
      'INVALID_REQUEST',
      'not a PeerIdentity from loadOrCreateIdentity or generateIdentity',
    );
  }
  return privateKey;
}

/**
 * A new identity that lives only in memory (tests, benchmarks, one-shot operator sessions).
 *
 * @example
 * const identity = await generateIdentity();
 * console.log(identity.peerId); // 12D3KooW...
 */
export async function generateIdentity(): Promise<PeerIdentity> {
  return fromPrivateKey(await generateKeyPair('Ed25519'));
}

async function readIdentity(file: string): Promise<PeerIdentity> {
  const text = await readFile(file, 'utf8');
  let privateKey: PrivateKey;
  let recorded: string;
  try {
    const parsed = identityFileSchema.parse(JSON.parse(text));
    recorded = parsed.peerId;
    privateKey = privateKeyFromProtobuf(Buffer.from(parsed.privateKey, 'base64'));
  } catch (cause) {
    throw new MonkError('STORAGE_FAILED', `identity file ${file} is corrupt`, { cause });
  }
  const identity = fromPrivateKey(privateKey);
  if (identity.peerId !== recorded) {
    throw new MonkError(
      'STORAGE_FAILED',
      `identity file ${file} names a peer id that does not match its key`,
    );
  }
  // The key must stay private even if someone loosened the mode by hand.
  if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
  return identity;
}

/**
 * Loads the node's identity from `file`, or creates it there: a new Ed25519 key written with mode 0600 in one
 * atomic step (a temporary file hard-linked into place), so two processes racing to create it agree on one
 * key. Throws `STORAGE_FAILED` when the file cannot be read, written or parsed.
 *
 * @example
 * const identity = await loadOrCreateIdentity({ file: '/var/lib/monk/identity.json' });
 */
export async function loadOrCreateIdentity(options: { readonly file: string }): Promise<PeerIdentity> {
  const { file } = options;
  try {
    return await readIdentity(file);
  } catch (error) {
    if (!isMissing(error)) throw wrapStorage(error, file);
  }
  const privateKey = await generateKeyPair('Ed25519');
  const identity = fromPrivateKey(privateKey);
  const content = JSON.stringify({
    kind: 'monk-peer-identity',
    version: 1,
    peerId: identity.peerId,
    privateKey: Buffer.from(privateKeyToProtobuf(privateKey)).toString('base64'),
  });
  const temporary = join(dirname(file), `.${randomBytes(6).toString('hex')}.identity.tmp`);
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(temporary, `${content}\n`, { mode: 0o600, flag: 'wx' });
    await link(temporary, file);
    return identity;
  } catch (error) {
    if (isCode(error, 'EEXIST'))
      return readIdentity(file).catch((cause: unknown) => {
        throw wrapStorage(cause, file);
      });
    throw wrapStorage(error, file);
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

function isMissing(error: unknown): boolean {
  return isCode(error, 'ENOENT');
}

function wrapStorage(error: unknown, file: string): MonkError {
  if (error instanceof MonkError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new MonkError('STORAGE_FAILED', `cannot load or create identity file ${file}: ${message}`, {
    cause: error,
  });
}
