import { describe, expect, it } from 'vitest';
import { createJoinToken, generateTokenSecret, hashTokenSecret, parseJoinToken } from './join-token.ts';
import type { JoinToken } from './join-token.ts';
import { generateNetworkKey } from './network-key.ts';

const now = new Date('2030-01-01T00:00:00Z');

function fields(overrides: Partial<JoinToken> = {}): JoinToken {
  return {
    clusterId: 'c-1',
    clusterName: 'prod',
    networkKey: generateNetworkKey(),
    addresses: ['/ip4/10.0.0.1/tcp/44001/p2p/12D3KooWExample'],
    role: 'peer',
    expiresAt: '2030-01-01T01:00:00Z',
    secret: generateTokenSecret(),
    ...overrides,
  };
}

describe('join tokens', () => {
  it('round-trips every field through printable text', () => {
    const original = fields({ role: 'operator' });
    const text = createJoinToken(original);
    expect(text).toMatch(/^monk1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(parseJoinToken(text, now)).toEqual({ ...original, addresses: [...original.addresses] });
  });

  it('refuses an expired token with JOIN_TOKEN_EXPIRED', () => {
    const text = createJoinToken(fields());
    expect(() => parseJoinToken(text, new Date('2030-01-01T01:00:00Z'))).toThrow(
      expect.objectContaining({ code: 'JOIN_TOKEN_EXPIRED' }),
    );
  });

  it.each([
    ['garbage', 'hello'],
    ['wrong prefix', 'monk2.e30.e30'],
    ['missing signature', 'monk1.e30'],
    ['non-JSON payload', `monk1.${Buffer.from('nope').toString('base64url')}.AAAA`],
  ])('refuses a malformed token (%s) with JOIN_TOKEN_INVALID', (_name, text) => {
    expect(() => parseJoinToken(text, now)).toThrow(expect.objectContaining({ code: 'JOIN_TOKEN_INVALID' }));
  });

  it('refuses an altered payload or signature with JOIN_TOKEN_INVALID', () => {
    const original = fields();
    const [tag, payload, signature] = createJoinToken(original).split('.');
    const altered = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>;
    altered['role'] = 'operator';
    const forged = `${tag ?? ''}.${Buffer.from(JSON.stringify(altered)).toString('base64url')}.${signature ?? ''}`;
    expect(() => parseJoinToken(forged, now)).toThrow(
      expect.objectContaining({ code: 'JOIN_TOKEN_INVALID' }),
    );
    const resigned = `${tag ?? ''}.${payload ?? ''}.${Buffer.alloc(32).toString('base64url')}`;
    expect(() => parseJoinToken(resigned, now)).toThrow(
      expect.objectContaining({ code: 'JOIN_TOKEN_INVALID' }),
    );
  });

  it('refuses a token for another cluster when the daemon passes its key', () => {
    const text = createJoinToken(fields());
    expect(() => parseJoinToken(text, now, { networkKey: generateNetworkKey() })).toThrow(
      expect.objectContaining({ code: 'JOIN_TOKEN_INVALID' }),
    );
  });

  it('refuses to create a token from bad fields', () => {
    expect(() => createJoinToken(fields({ networkKey: new Uint8Array(5) }))).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST' }),
    );
    expect(() => createJoinToken(fields({ expiresAt: 'tomorrow' }))).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST' }),
    );
    expect(() => createJoinToken(fields({ secret: 'short' }))).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST' }),
    );
  });

  it('hashes secrets stably and never to the secret itself', () => {
    const secret = generateTokenSecret();
    expect(hashTokenSecret(secret)).toBe(hashTokenSecret(secret));
    expect(hashTokenSecret(secret)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashTokenSecret(secret)).not.toBe(hashTokenSecret(generateTokenSecret()));
  });
});
