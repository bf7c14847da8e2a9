import { MonkError } from '@monk/model';
import { createMemoryImageStore, type MemoryImageStore } from '@monk/runtime';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.ts';
import { createImageExchange, type ImageExchangeOptions, type ImagePeerTransport } from './image-exchange.ts';

const ref = 'monk-local/app:1';
const appId = `sha256:${'a'.repeat(64)}`;

interface FakePeer {
  readonly name: string;
  readonly alive: boolean;
  readonly store?: MemoryImageStore;
  /** What it claims to hold, when that differs from its store. */
  readonly advertisedId?: string;
}

/** Other peers as memory image stores behind a transport that counts what it is asked. */
function fakeCluster(peers: Record<string, FakePeer>, hold?: Promise<void>) {
  const asked: string[] = [];
  const fetched: string[] = [];
  const transport: ImagePeerTransport = {
    listPeers: () => Object.entries(peers).map(([id, peer]) => ({ id, name: peer.name, alive: peer.alive })),
    async hasImage(peerId, wanted) {
      asked.push(peerId);
      const peer = peers[peerId];
      if (peer?.store === undefined) throw new MonkError('PEER_UNREACHABLE', `no route to ${peerId}`);
      const image = await peer.store.inspectImage(wanted);
      if (image === undefined) return undefined;
      return { id: peer.advertisedId ?? image.id, sizeBytes: image.sizeBytes };
    },
    fetchImage(peerId, wanted) {
      fetched.push(peerId);
      const store = peers[peerId]?.store;
      if (store === undefined) throw new MonkError('PEER_UNREACHABLE', `no route to ${peerId}`);
      return (async function* () {
        let first = true;
        for await (const chunk of store.exportImage(wanted)) {
          yield chunk;
          if (first && hold !== undefined) await hold;
          first = false;
        }
      })();
    },
  };
  return { transport, asked, fetched };
}

function setup(
  peers: Record<string, FakePeer>,
  options: Partial<ImageExchangeOptions> & { local?: MemoryImageStore; hold?: Promise<void> } = {},
) {
  const local = options.local ?? createMemoryImageStore();
  const cluster = fakeCluster(peers, options.hold);
  const messages: string[] = [];
  const logs: string[] = [];
  let changes = 0;
  const exchange = createImageExchange(
    { registryPull: false, progressIntervalMs: 0, ...options },
    {
      images: local,
      peers: cluster.transport,
      logger: createLogger({ level: 'info', write: (line) => logs.push(line) }),
      now: () => Date.now(),
      onChange: () => {
        changes += 1;
      },
    },
  );
  const prepareUntilSettled = async (): Promise<void> => {
    for (;;) {
      const state = await exchange.prepare(ref);
      if (state.ready) return;
      messages.push(state.message);
      await exchange.ensure(ref).catch(() => undefined);
    }
  };
  return { local, exchange, messages, logs, changes: () => changes, prepareUntilSettled, ...cluster };
}

const holding = (id = appId, sizeBytes = 5 * 1024 * 1024): MemoryImageStore =>
  createMemoryImageStore({ images: [{ ref, id, sizeBytes }] });

describe('image exchange', () => {
  it('is ready at once for an image the engine has, asking no peer', async () => {
    const { exchange, asked } = setup(
      { b: { name: 'bravo', alive: true, store: holding() } },
      { local: holding() },
    );
    expect(await exchange.prepare(ref)).toEqual({ ready: true });
    expect(asked).toEqual([]);
  });

  it('fetches a missing image from a peer that has it, with the same ID, and reports it', async () => {
    const { exchange, local, logs } = setup({ b: { name: 'bravo', alive: true, store: holding() } });
    const first = await exchange.prepare(ref);
    expect(first.ready).toBe(false);
    await exchange.ensure(ref);
    expect(await local.inspectImage(ref)).toMatchObject({ id: appId, repoTags: [ref] });
    expect(await exchange.prepare(ref)).toEqual({ ready: true });
    expect(logs.join('')).toContain('fetching image monk-local/app:1 from peer bravo (5 MB)');
  });

  it('reports the fetch as progress while bytes flow', async () => {
    const release = Promise.withResolvers<void>();
    const { exchange } = setup(
      { b: { name: 'bravo', alive: true, store: holding() } },
      { hold: release.promise },
    );
    const deadline = Date.now() + 5_000;
    let state = await exchange.prepare(ref);
    while (!state.ready && !state.message.includes('%') && Date.now() < deadline) {
      await new Promise((resolve) => setImmediate(resolve));
      state = await exchange.prepare(ref);
    }
    expect(state).toEqual({
      ready: false,
      message: 'fetching image monk-local/app:1 from peer bravo (5 MB): 0%',
    });
    release.resolve();
    await exchange.ensure(ref);
    expect(await exchange.prepare(ref)).toEqual({ ready: true });
  });

  it('fetches once however many instances wait for the image', async () => {
    const { exchange, fetched, local } = setup({
      b: { name: 'bravo', alive: true, store: holding() },
      c: { name: 'charlie', alive: true, store: holding() },
    });
    const states = await Promise.all(Array.from({ length: 8 }, () => exchange.prepare(ref)));
    expect(states.every((s) => !s.ready)).toBe(true);
    await Promise.all(Array.from({ length: 8 }, () => exchange.ensure(ref)));
    expect(fetched).toHaveLength(1);
    expect((await local.inspectImage(ref))?.id).toBe(appId);
  });

  it('asks alive peers first, and the others only when no alive peer has the image', async () => {
    const { exchange, fetched, asked } = setup({
      b: { name: 'bravo', alive: false, store: holding() },
      c: { name: 'charlie', alive: true, store: holding() },
    });
    await exchange.ensure(ref);
    expect(fetched).toEqual(['c']);
    expect(asked).toEqual(['c']);

    const doubtful = setup({
      b: { name: 'bravo', alive: false, store: holding() },
      c: { name: 'charlie', alive: true, store: createMemoryImageStore() },
    });
    await doubtful.exchange.ensure(ref);
    expect(doubtful.asked).toEqual(['c', 'b']);
    expect(doubtful.fetched).toEqual(['b']);
  });

  it('fails with IMAGE_NOT_FOUND naming every peer asked, once, then starts over', async () => {
    const { exchange, prepareUntilSettled, asked } = setup({
      b: { name: 'bravo', alive: true, store: createMemoryImageStore() },
      c: { name: 'charlie', alive: false },
    });
    const failure = prepareUntilSettled();
    await expect(failure).rejects.toMatchObject({
      code: 'IMAGE_NOT_FOUND',
      details: { image: ref, peersAsked: ['bravo', 'charlie'] },
    });
    await expect(failure).rejects.toThrow(/bravo \(does not have it\).*charlie \(PEER_UNREACHABLE/);
    expect(asked).toHaveLength(2);
    // The failure was told once: the next preparation asks again.
    expect((await exchange.prepare(ref)).ready).toBe(false);
    await exchange.ensure(ref).catch(() => undefined);
    expect(asked).toHaveLength(4);
  });

  it('fails with IMAGE_NOT_FOUND when there is no other peer to ask', async () => {
    const { exchange } = setup({});
    await expect(exchange.ensure(ref)).rejects.toMatchObject({
      code: 'IMAGE_NOT_FOUND',
      details: { peersAsked: [] },
    });
  });

  it('removes an image whose ID is not the advertised one and takes it from the next peer', async () => {
    const { exchange, local, fetched } = setup({
      b: {
        name: 'bravo',
        alive: true,
        store: holding(`sha256:${'b'.repeat(64)}`),
        advertisedId: appId,
      },
      c: { name: 'charlie', alive: true, store: holding() },
    });
    await exchange.ensure(ref);
    expect(fetched).toEqual(['b', 'c']);
    expect((await local.inspectImage(ref))?.id).toBe(appId);
  });

  it('fails, leaving nothing loaded, when the only holder sends another image', async () => {
    const { exchange, local } = setup({
      b: {
        name: 'bravo',
        alive: true,
        store: holding(`sha256:${'b'.repeat(64)}`),
        advertisedId: appId,
      },
    });
    await expect(exchange.ensure(ref)).rejects.toThrow(/bravo \(fetch failed: PROTOCOL_ERROR.*advertised/);
    expect(await local.inspectImage(ref)).toBeUndefined();
  });

  it('pulls from the registry when one answers, asking no peer', async () => {
    const local = createMemoryImageStore({
      registry: async () => ({ id: appId, sizeBytes: 1_000 }),
    });
    const { exchange, asked } = setup(
      { b: { name: 'bravo', alive: true, store: holding() } },
      { local, registryPull: { timeoutMs: 1_000 } },
    );
    expect((await exchange.ensure(ref)).id).toBe(appId);
    expect(asked).toEqual([]);
  });

  it('passes the user’s registry credentials to the pull', async () => {
    const seen: unknown[] = [];
    const local = createMemoryImageStore({
      registry: async (_ref, pull) => {
        seen.push(pull.auth);
        return { id: appId, sizeBytes: 1_000 };
      },
    });
    const { exchange } = setup(
      {},
      {
        local,
        registryPull: { timeoutMs: 1_000 },
        registryAuth: async () => ({ username: 'ci', password: 'hunter2' }),
      },
    );
    await exchange.ensure(ref);
    expect(seen).toEqual([{ username: 'ci', password: 'hunter2' }]);
  });

  it('falls back to the peers when no registry answers, and says so when nobody has it', async () => {
    const { exchange, fetched } = setup(
      { b: { name: 'bravo', alive: true, store: holding() } },
      { registryPull: { timeoutMs: 1_000 } },
    );
    await exchange.ensure(ref);
    expect(fetched).toEqual(['b']);

    const lonely = setup({}, { registryPull: { timeoutMs: 1_000 } });
    await expect(lonely.exchange.ensure(ref)).rejects.toThrow(/no registry answers/);
  });

  it('tells its listener when a preparation settles', async () => {
    const { exchange, changes } = setup({ b: { name: 'bravo', alive: true, store: holding() } });
    await exchange.prepare(ref);
    await exchange.ensure(ref).catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    expect(changes()).toBeGreaterThan(0);
  });
});
