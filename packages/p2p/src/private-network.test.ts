import { xsalsa20 } from '@noble/ciphers/salsa.js';
import { describe, expect, it } from 'vitest';
import { createKeystream, privateNetwork } from './private-network.ts';

describe('private network keystream', () => {
  const key = new Uint8Array(32).map((_, index) => index);
  const nonce = new Uint8Array(24).map((_, index) => 100 + index);
  const data = new Uint8Array(1000).map((_, index) => (index * 7) % 256);
  const oneShot = xsalsa20(key, nonce, data);

  it('encrypts chunks cut anywhere exactly like one continuous stream', () => {
    for (const sizes of [[1000], [1, 999], [63, 1, 64, 872], [100, 100, 100, 700], [7, 13, 64, 65, 851]]) {
      const keystream = createKeystream(key, nonce);
      const parts: number[] = [];
      let offset = 0;
      for (const size of sizes) {
        parts.push(...keystream(data.subarray(offset, offset + size)));
        offset += size;
      }
      expect(Uint8Array.from(parts)).toEqual(oneShot);
    }
  });

  it('decrypts what it encrypted', () => {
    const encrypt = createKeystream(key, nonce);
    const decrypt = createKeystream(key, nonce);
    expect(decrypt(encrypt(data.subarray(0, 500)))).toEqual(data.subarray(0, 500));
    expect(decrypt(encrypt(data.subarray(500)))).toEqual(data.subarray(500));
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => privateNetwork({ networkKey: new Uint8Array(16) })).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST' }),
    );
  });
});
