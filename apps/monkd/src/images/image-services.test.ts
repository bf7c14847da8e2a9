import { randomBytes } from 'node:crypto';
import { createGraph, createMemoryStore } from '@monk/graph';
import { createMemoryNetwork, type P2PNode } from '@monk/p2p';
import { createMemoryImageStore } from '@monk/runtime';
import type { ImagesResult, PeerEntry } from '@monk/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallChannel } from '../handlers.ts';
import { createLogger } from '../logger.ts';
import { createSecretStore } from '../secrets/secret-store.ts';
import { createImageServices } from './image-services.ts';
import { createRegistryCredentials } from './registry-credentials.ts';

const logger = createLogger({ level: 'error' });
const channel: CallChannel = {
  emit: async () => undefined,
  clientFrames: (async function* () {})(),
  signal: new AbortController().signal,
};

const entry = (id: string, state: PeerEntry['state'], self = false): PeerEntry => ({
  id,
  name: `peer-${id}`,
  role: 'peer',
  tags: [],
  addresses: [],
  state,
  containers: 0,
  startedAt: '2025-05-01T00:00:00Z',
  self,
});

describe('monk images', () => {
  const nodes: P2PNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((node) => node.stop()));
  });

  it('lists each image with the peers holding it, and names the peers that did not answer', async () => {
    const network = createMemoryNetwork({ seed: 7 });
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const shared = { ref: 'monk-local/app:1', id: `sha256:${'a'.repeat(64)}`, sizeBytes: 2_000_000 };
    const stores = {
      a: createMemoryImageStore({ images: [shared] }),
      b: createMemoryImageStore({ images: [shared, { ref: 'monk-local/only-b:1', sizeBytes: 1_000 }] }),
    };
    const graph = await createGraph({ peerId: 'a', store: createMemoryStore() });
    const key = randomBytes(32);
    const secrets = createSecretStore({ graph, keys: { key: async () => key }, now: () => Date.now() });
    const serviceOf = (id: 'a' | 'b', node: P2PNode) =>
      createImageServices(
        { peerName: `peer-${id}`, registryPull: false },
        {
          images: stores[id],
          credentials: createRegistryCredentials({ secrets }),
          logger,
          now: () => Date.now(),
          onChange: () => undefined,
          cluster: () => ({
            isMember: () => true,
            // c is dead; d is alive as far as membership knows but never started; e is an operator.
            peers: () => [
              entry('a', 'alive', id === 'a'),
              entry('b', 'alive', id === 'b'),
              entry('c', 'dead'),
              entry('d', 'alive'),
              { ...entry('e', 'alive'), role: 'operator' },
            ],
            openStream: (peer, protocol, options) =>
              node.openStream(peer, protocol, { ...options, timeoutMs: 500 }),
          }),
        },
      );
    const services: Partial<Record<'a' | 'b', ReturnType<typeof serviceOf>>> = {};
    for (const id of ['a', 'b'] as const) {
      const node = network.createNode({ peerId: id, allowList: ids });
      nodes.push(node);
      await node.start();
      const service = serviceOf(id, node);
      node.handleStream(
        service.peerStream.protocol,
        (stream, context) => service.peerStream.handler(stream, { ...context, isPeer: true }),
        { maxMessageBytes: service.peerStream.maxMessageBytes },
      );
      services[id] = service;
    }
    const list = services.a?.handlers['images.list'];
    if (list === undefined) throw new Error('no images.list');
    const result = (await list({}, channel)) as ImagesResult;
    expect(result.images).toEqual([
      { id: shared.id, repoTags: ['monk-local/app:1'], sizeBytes: 2_000_000, peers: ['peer-a', 'peer-b'] },
      expect.objectContaining({ repoTags: ['monk-local/only-b:1'], peers: ['peer-b'] }),
    ]);
    expect(result.unreachable.map((u) => u.peer)).toEqual(['peer-c', 'peer-d']);
    expect(result.unreachable[0]?.message).toBe('peer is dead');
  });
});
