import { createMemoryNetwork, type P2PNode } from '@monk/p2p';
import { createMemoryImageStore, type MemoryImageStore } from '@monk/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.ts';
import { createImageExchange } from './image-exchange.ts';
import {
  createPeerImageClient,
  imageProtocol,
  imageProtocolMaxMessageBytes,
  serveImageStream,
  type PeerImageClient,
} from './image-protocol.ts';

const ref = 'monk-local/app:1';
const logger = createLogger({ level: 'error' });

describe('image protocol over a memory network', () => {
  const nodes: P2PNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((node) => node.stop()));
  });

  /** Peers a and b serve their stores; `operator` is allowed on the network but is no peer. */
  async function network(stores: Record<string, MemoryImageStore>): Promise<Record<string, PeerImageClient>> {
    const memory = createMemoryNetwork({ seed: 1 });
    const ids = [...Object.keys(stores), 'operator'];
    const clients: Record<string, PeerImageClient> = {};
    for (const id of ids) {
      const node = memory.createNode({ peerId: id, allowList: ids });
      nodes.push(node);
      await node.start();
      const images = stores[id] ?? createMemoryImageStore();
      node.handleStream(
        imageProtocol,
        (stream, context) =>
          serveImageStream(stream, { isPeer: context.from !== 'operator' }, { images, logger }),
        { maxMessageBytes: imageProtocolMaxMessageBytes },
      );
      clients[id] = createPeerImageClient({
        listPeers: () =>
          Object.keys(stores)
            .filter((other) => other !== id)
            .map((other) => ({ id: other, name: `peer-${other}`, alive: true })),
        openStream: (peer, protocol, options) => node.openStream(peer, protocol, options),
      });
    }
    return clients;
  }

  it('answers has and list, and streams an image that loads with the same ID', async () => {
    const a = createMemoryImageStore({ images: [{ ref, sizeBytes: 3_000_000 }] });
    const b = createMemoryImageStore();
    const clients = await network({ a, b });
    const client = clients['b'];
    if (client === undefined) throw new Error('no client');
    const id = (await a.inspectImage(ref))?.id;
    expect(await client.hasImage('a', ref)).toEqual({ id, sizeBytes: 3_000_000 });
    expect(await client.hasImage('a', 'monk-local/other:1')).toBeUndefined();
    expect((await client.listImages('a')).map((image) => image.repoTags)).toEqual([[ref]]);

    const exchange = createImageExchange(
      { registryPull: false },
      { images: b, peers: client, logger, now: () => Date.now() },
    );
    expect((await exchange.ensure(ref)).id).toBe(id);
    expect((await b.inspectImage(ref))?.id).toBe(id);
  });

  it('fails a fetch of an image the peer lacks with IMAGE_NOT_FOUND', async () => {
    const clients = await network({ a: createMemoryImageStore(), b: createMemoryImageStore() });
    const fetching = async (): Promise<void> => {
      for await (const chunk of clients['b']?.fetchImage('a', ref) ?? []) void chunk;
    };
    await expect(fetching()).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
  });

  it('refuses an operator', async () => {
    const clients = await network({ a: createMemoryImageStore({ images: [{ ref }] }) });
    await expect(clients['operator']?.hasImage('a', ref)).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
  });
});
