import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmod, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MonkError } from '@monk/model';

/**
 * A WireGuard key pair as a peer holds it: the public key (base64, goes into the peer record) and the path of
 * the file holding the private key. The private key itself is never handed around: `wg set … private-key`
 * reads that file.
 */
export interface WireguardKey {
  readonly publicKey: string;
  readonly privateKeyFile: string;
}

// PKCS#8 wrapping of a raw X25519 private key (RFC 8410).
const pkcs8Prefix = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** The public key of a base64 WireGuard private key. Throws `INVALID_REQUEST` when it is not one. */
export function wireguardPublicKey(privateKey: string): string {
  const raw = Buffer.from(privateKey.trim(), 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== privateKey.trim()) {
    throw new MonkError('INVALID_REQUEST', 'not a WireGuard private key (32 bytes of base64)');
  }
  const key = createPrivateKey({ key: Buffer.concat([pkcs8Prefix, raw]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url').toString('base64');
}

function generatePrivateKey(): string {
  const { privateKey } = generateKeyPairSync('x25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return Buffer.from(jwk.d ?? '', 'base64url').toString('base64');
}

/**
 * Reads this peer's WireGuard key from `file`, creating it first when missing: a fresh X25519 key in
 * `wg genkey`'s format (base64 and a newline), written atomically with mode 0600. An existing file whose
 * mode lets others read it is tightened to 0600.
 *
 * @throws MonkError `DATA_FILE_INVALID` naming the file when it holds anything but a private key (delete it to
 *   get a new key; the peer record then carries the new public key).
 * @example
 * const key = await loadOrCreateWireguardKey({ file: '/var/lib/monk/wireguard.key' });
 * key.publicKey; // 'fs4NlNCXGQcHTbzKxau+6eWIlLmBOu9GP2nJ3PPA8EU='
 */
export async function loadOrCreateWireguardKey(options: { file: string }): Promise<WireguardKey> {
  const { file } = options;
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text === undefined) {
    const privateKey = generatePrivateKey();
    const temp = join(dirname(file), `.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(`${privateKey}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file).catch(async (error: unknown) => {
      await rm(temp, { force: true });
      throw error;
    });
    return { publicKey: wireguardPublicKey(privateKey), privateKeyFile: file };
  }
  if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
  try {
    return { publicKey: wireguardPublicKey(text), privateKeyFile: file };
  } catch (error) {
    throw new MonkError(
      'DATA_FILE_INVALID',
      `${file} does not hold a WireGuard private key; delete it and a new key is made at the next start`,
      { cause: error, details: { file } },
    );
  }
}
