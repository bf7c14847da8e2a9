import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { MonkError } from '@monk/model';

/** Prefix of a sealed value inside a stored container spec. */
export const sealedPrefix = 'monk-sealed:v1:';

const sealedPattern = /monk-sealed:v1:([A-Za-z0-9_-]+)/g;
const nonceBytes = 12;
const tagBytes = 16;

/**
 * AES-256-GCM over the secrets key, with one sub-key per purpose (HKDF-SHA256): stored secrets, sealed
 * values in container specs, and seeds for `random-uuid`.
 *
 * @example
 * const cipher = createSecretCipher(await keys.key());
 * const record = cipher.encrypt('hunter2', 'global#db-password');
 * cipher.decrypt(record, 'global#db-password'); // 'hunter2'
 */
export interface SecretCipher {
  /**
   * Encrypts a secret value with a fresh random nonce. `context` (the record's scope and name) is
   * authenticated, so a ciphertext moved to another record does not decrypt.
   */
  encrypt(plaintext: string, context: string): { ciphertext: string; nonce: string };
  /** Throws `STORAGE_FAILED` when the key is not the one that encrypted it, or the record is damaged. */
  decrypt(record: { ciphertext: string; nonce: string }, context: string): string;
  /**
   * Seals a value for a container spec: deterministic (the nonce is derived from the value), so an
   * unchanged secret keeps the spec hash, and a changed one changes it.
   */
  seal(plaintext: string): string;
  /**
   * Reverses {@link seal}, also for sealed values embedded in a longer text (a readiness check's
   * `\`-p${password}\``); other text passes through. Throws `STORAGE_FAILED` like decrypt.
   */
  unseal(text: string): string;
  /** A keyed digest (HMAC-SHA256) for `purpose` over `data`: stable, unpredictable without the key. */
  digest(purpose: string, data: string): Uint8Array;
}

export function createSecretCipher(key: Uint8Array): SecretCipher {
  const subKey = (info: string): Buffer =>
    Buffer.from(hkdfSync('sha256', key, new Uint8Array(0), `monk secrets: ${info}`, 32));
  const storeKey = subKey('store');
  const sealKey = subKey('seal');
  const sealNonceKey = subKey('seal nonce');
  const digestKey = subKey('digest');

  const encryptWith = (options: { key: Buffer; nonce: Buffer; plaintext: string; aad: string }) => {
    const cipher = createCipheriv('aes-256-gcm', options.key, options.nonce);
    cipher.setAAD(Buffer.from(options.aad));
    const body = Buffer.concat([cipher.update(options.plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([body, cipher.getAuthTag()]);
  };
  const decryptWith = (options: { key: Buffer; nonce: Buffer; data: Buffer; aad: string; what: string }) => {
    try {
      if (options.data.length < tagBytes || options.nonce.length !== nonceBytes) throw new Error('too short');
      const decipher = createDecipheriv('aes-256-gcm', options.key, options.nonce);
      decipher.setAAD(Buffer.from(options.aad));
      decipher.setAuthTag(options.data.subarray(options.data.length - tagBytes));
      const body = options.data.subarray(0, options.data.length - tagBytes);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new MonkError(
        'STORAGE_FAILED',
        `${options.what} cannot be decrypted with this peer's secrets key: the key is not the one it was encrypted with, or the data is damaged`,
        { cause: error },
      );
    }
  };

  return {
    encrypt(plaintext, context) {
      const nonce = randomBytes(nonceBytes);
      const data = encryptWith({ key: storeKey, nonce, plaintext, aad: context });
      return { ciphertext: data.toString('base64'), nonce: nonce.toString('base64') };
    },
    decrypt(record, context) {
      return decryptWith({
        key: storeKey,
        nonce: Buffer.from(record.nonce, 'base64'),
        data: Buffer.from(record.ciphertext, 'base64'),
        aad: context,
        what: `secret ${context}`,
      });
    },
    seal(plaintext) {
      const nonce = createHmac('sha256', sealNonceKey).update(plaintext).digest().subarray(0, nonceBytes);
      const data = encryptWith({ key: sealKey, nonce, plaintext, aad: 'sealed' });
      return `${sealedPrefix}${Buffer.concat([nonce, data]).toString('base64url')}`;
    },
    unseal(text) {
      if (!text.includes(sealedPrefix)) return text;
      return text.replace(sealedPattern, (_match, encoded: string) => {
        const bytes = Buffer.from(encoded, 'base64url');
        return decryptWith({
          key: sealKey,
          nonce: bytes.subarray(0, nonceBytes),
          data: bytes.subarray(nonceBytes),
          aad: 'sealed',
          what: 'a sealed value of a container spec',
        });
      });
    },
    digest(purpose, data) {
      return new Uint8Array(createHmac('sha256', digestKey).update(`${purpose}\0${data}`).digest());
    },
  };
}
