import type { ContextStore } from './context-store.ts';
import type { DisposableTransport } from './p2p-transport.ts';

/**
 * The transport of a named operator context, resolved at the first call: it reads the context from the
 * store and loads libp2p only then, so commands that talk to a local monkd never pay for it.
 *
 * `open` throws `CONTEXT_NOT_FOUND` when the context does not exist, and whatever the p2p transport throws.
 *
 * @example
 * const transport = createContextTransport({ store, name: 'prod' });
 * const monk = createMonkClient({ transport });
 */
export function createContextTransport(options: {
  readonly store: ContextStore;
  readonly name: string;
}): DisposableTransport {
  const { store, name } = options;
  let inner: Promise<DisposableTransport> | undefined;
  const resolve = (): Promise<DisposableTransport> => {
    inner ??= (async () => {
      const context = await store.get(name);
      const { createP2PTransport } = await import('./p2p-transport.ts');
      return createP2PTransport({ context, identityFile: store.identityFile(name) });
    })();
    return inner;
  };
  return {
    target: `cluster ${name}`,
    open: async (request) => (await resolve()).open(request),
    dispose: async () => {
      if (inner === undefined) return;
      await (await inner.catch(() => undefined))?.dispose();
    },
  };
}
