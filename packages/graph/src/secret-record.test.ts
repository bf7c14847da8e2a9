import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { MonkError } from '@monk/model';
import { createGraph } from './graph.ts';
import type { GraphChange } from './graph.ts';
import type { GraphProblem } from './graph-problem.ts';
import { encodeGraphUpdate } from './graph-update-codec.ts';
import { createMemoryStore } from './memory-store.ts';
import type { SecretRecord } from './secret-record.ts';

function secret(overrides: Partial<SecretRecord> & { name: string }): SecretRecord {
  return {
    scope: 'global',
    ciphertext: 'c2VhbGVk',
    nonce: 'bm9uY2U=',
    updatedAt: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}

describe('graph secrets', () => {
  it('stores secrets per scope and name, lists them sorted, and deletes them', async () => {
    await using graph = await createGraph({ peerId: 'peer-a' });
    const changes: GraphChange[] = [];
    graph.onChange((batch) => changes.push(...batch));
    graph.putSecret(secret({ name: 'token', scope: 'shop/web' }));
    graph.putSecret(secret({ name: 'token' }));
    graph.putSecret(secret({ name: 'api-key' }));

    expect(graph.getSecret('shop/web', 'token')?.scope).toBe('shop/web');
    expect(graph.getSecret('global', 'token')?.scope).toBe('global');
    expect(graph.listSecrets().map((s) => `${s.scope}#${s.name}`)).toEqual([
      'global#api-key',
      'global#token',
      'shop/web#token',
    ]);
    expect(graph.listSecrets({ scope: 'shop/web' }).map((s) => s.name)).toEqual(['token']);
    expect(changes.map((c) => `${c.kind}:${c.key}`)).toContain('secret:shop/web#token');

    graph.putSecret(secret({ name: 'token', ciphertext: 'bmV3' }));
    expect(graph.getSecret('global', 'token')?.ciphertext).toBe('bmV3');
    graph.deleteSecret('global', 'token');
    graph.deleteSecret('global', 'missing');
    expect(graph.getSecret('global', 'token')).toBeUndefined();
    expect(graph.listSecrets()).toHaveLength(2);
  });

  it('rejects invalid names, scopes and encodings with INVALID_REQUEST', async () => {
    await using graph = await createGraph({ peerId: 'peer-a' });
    for (const bad of [
      secret({ name: 'a#b' }),
      secret({ name: '-x' }),
      secret({ name: 'x', scope: 'local' }),
      secret({ name: 'x', ciphertext: 'not base64!' }),
      secret({ name: 'x', nonce: '' }),
    ]) {
      let thrown: unknown;
      try {
        graph.putSecret(bad);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(MonkError);
      expect((thrown as MonkError).code).toBe('INVALID_REQUEST');
    }
    expect(graph.listSecrets()).toEqual([]);
  });

  it('replicates secrets and survives a reopen from its store', async () => {
    const store = createMemoryStore();
    const a = await createGraph({ peerId: 'peer-a', store });
    a.putSecret(secret({ name: 'db-password', scope: 'shop/db' }));
    await a.flush();
    const b = await createGraph({ peerId: 'peer-b' });
    b.applyRemoteUpdate(a.encodeUpdateSince(), 'peer-a');
    expect(b.getSecret('shop/db', 'db-password')?.ciphertext).toBe('c2VhbGVk');
    await b.close();
    // The same store read by a second replica, as after a restart.
    const reopened = await createGraph({ peerId: 'peer-a', store });
    expect(reopened.listSecrets().map((s) => s.name)).toEqual(['db-password']);
    await a.close();
  });

  it('leaves out invalid secret records that arrive from a peer', async () => {
    const problems: GraphProblem[] = [];
    await using source = await createGraph({ peerId: 'peer-a' });
    source.putSecret(secret({ name: 'ok' }));
    // A foreign writer bypassing validation: a record whose key does not match its contents.
    const doc = new Y.Doc();
    doc.getMap('secrets').set('global#forged', secret({ name: 'other' }));
    await using target = await createGraph({ peerId: 'peer-b', onProblem: (p) => problems.push(p) });
    target.applyRemoteUpdate(source.encodeUpdateSince(), 'peer-a');
    target.applyRemoteUpdate(encodeGraphUpdate({ yjs: Y.encodeStateAsUpdate(doc), blocks: [] }), 'peer-c');
    expect(target.listSecrets().map((s) => s.name)).toEqual(['ok']);
    expect(problems.map((p) => p.kind)).toEqual(['invalid-record']);
  });
});
