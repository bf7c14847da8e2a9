import { MonkError, toMonkError } from '@monk/model';
import type { ImageInfo, ImageStore, RegistryAuth } from '@monk/runtime';
import type { Logger } from '../logger.ts';

/** A cluster peer that may hold an image, as the exchange asks it. */
export interface ImagePeer {
  readonly id: string;
  readonly name: string;
  /** Membership says it is alive: alive peers are asked first. */
  readonly alive: boolean;
}

/** What a peer says it holds under a reference. */
export interface AdvertisedImage {
  readonly id: string;
  readonly sizeBytes: number;
}

/**
 * How the exchange reaches other peers (the libp2p image protocol in monkd, a fake in tests). Errors are
 * MonkErrors: `PEER_UNREACHABLE`, `TIMEOUT`, `NOT_A_MEMBER`, or the code the remote answered with.
 */
export interface ImagePeerTransport {
  /** The other peers of the cluster (never this one); empty when this peer is in no cluster. */
  listPeers(): readonly ImagePeer[];
  /** What the peer holds under `ref`, or undefined when it has no such image. */
  hasImage(peerId: string, ref: string): Promise<AdvertisedImage | undefined>;
  /** The peer's `docker save` archive of `ref`, streamed; fails mid-way when the peer goes away. */
  fetchImage(peerId: string, ref: string): AsyncIterable<Uint8Array>;
}

export interface ImageExchangeOptions {
  /** Try the image's registry first. Off where none answers (tests, offline clusters). */
  readonly registryPull: false | { readonly timeoutMs: number };
  /** Credentials for the registry of the reference being pulled (`monk registry login`), if any. */
  readonly registryAuth?: (ref: string) => Promise<RegistryAuth | undefined>;
  /** Least time between two progress reports of one fetch (the first and the last always go out). */
  readonly progressIntervalMs?: number;
}

/** Where getting one image stands, for the observed state of the workloads that wait for it. */
export type ImagePreparation =
  | { readonly ready: true }
  | {
      readonly ready: false;
      /** `fetching image X from peer Y (n MB)`, with the share received once bytes flow. */
      readonly message: string;
    };

/**
 * Gets images the local engine lacks (Monk's cluster exchange): from the registry when one answers (if
 * enabled), else from the first peer that holds the same reference, streamed into `docker load` and verified
 * against the image ID the peer advertised. One fetch per image at a time, however many instances wait.
 */
export interface ImageExchange {
  /**
   * Never waits for a transfer: resolves `ready` when the engine has `ref`, otherwise starts getting it (or
   * joins the fetch under way) and resolves with what is happening. When the last attempt failed, rejects once
   * with its error — `IMAGE_NOT_FOUND` naming the peers asked — and the next call starts over.
   */
  prepare(ref: string): Promise<ImagePreparation>;
  /** Gets `ref` if the engine lacks it and resolves when it has it (what `prepare` runs in the background). */
  ensure(ref: string): Promise<ImageInfo>;
}

const megabyte = 1024 * 1024;

/**
 * Creates the exchange over the local image store and a peer transport. `onChange` is told whenever a
 * preparation's answer would change (progress, done, failed): the reconciler runs again.
 *
 * @example
 * const exchange = createImageExchange({ registryPull: false }, { images, peers, logger, now, onChange: kick });
 * const state = await exchange.prepare('monk-local/app:1'); // { ready: false, message: 'looking for …' }
 */
export function createImageExchange(
  options: ImageExchangeOptions,
  components: {
    images: ImageStore;
    peers: ImagePeerTransport;
    logger: Logger;
    now: () => number;
    onChange?: () => void;
  },
): ImageExchange {
  const { images, peers, logger, now } = components;
  const progressIntervalMs = options.progressIntervalMs ?? 1_000;
  const inFlight = new Map<string, { promise: Promise<ImageInfo>; state: { message: string } }>();
  const failed = new Map<string, MonkError>();

  const changed = (): void => {
    try {
      components.onChange?.();
    } catch (error) {
      logger.warn('image exchange listener failed', { error: toMonkError(error).message });
    }
  };

  async function fromRegistry(ref: string): Promise<ImageInfo | string> {
    if (options.registryPull === false) return 'registry pull disabled';
    const auth = await options.registryAuth?.(ref);
    try {
      const pulled = await images.pullImage(ref, {
        timeoutMs: options.registryPull.timeoutMs,
        ...(auth === undefined ? {} : { auth }),
      });
      logger.info(`pulled image ${ref} from its registry`, { image: pulled.id });
      return pulled;
    } catch (error) {
      const monkError = toMonkError(error);
      if (monkError.code !== 'REGISTRY_UNAVAILABLE' && monkError.code !== 'IMAGE_NOT_FOUND') throw monkError;
      logger.info(`no registry has image ${ref}; asking the cluster`, { reason: monkError.message });
      return monkError.message;
    }
  }

  async function fetchFrom(
    peer: ImagePeer,
    request: { ref: string; advertised: AdvertisedImage; report: (message: string) => void },
  ): Promise<ImageInfo> {
    const { ref, advertised } = request;
    const size = `${Math.max(1, Math.round(advertised.sizeBytes / megabyte))} MB`;
    const heading = `fetching image ${ref} from peer ${peer.name} (${size})`;
    logger.info(heading, { peer: peer.id, image: advertised.id });
    request.report(heading);
    const started = now();
    let received = 0;
    let reportedAt = now();
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const chunk of peers.fetchImage(peer.id, ref)) {
        received += chunk.byteLength;
        if (now() - reportedAt >= progressIntervalMs) {
          reportedAt = now();
          const share = Math.min(99, Math.floor((received / Math.max(advertised.sizeBytes, 1)) * 100));
          request.report(`${heading}: ${String(share)}%`);
        }
        yield chunk;
      }
    }
    await images.importImage(counted());
    const loaded = await images.inspectImage(ref);
    if (loaded?.id !== advertised.id) {
      // What arrived is not what was advertised: it must not run under that name.
      if (loaded !== undefined) {
        await images.removeImage(ref).catch((error: unknown) => {
          logger.warn(`could not remove the mismatched image ${ref}`, { error: toMonkError(error).message });
        });
      }
      throw new MonkError(
        'PROTOCOL_ERROR',
        `image ${ref} from peer ${peer.name} loaded as ${loaded?.id ?? 'nothing'}, not the advertised ${advertised.id}; removed it`,
      );
    }
    logger.info(`fetched image ${ref} from peer ${peer.name}`, {
      image: loaded.id,
      bytes: received,
      ms: now() - started,
    });
    return loaded;
  }

  async function fromPeers(
    ref: string,
    context: { registry: string; report: (message: string) => void },
  ): Promise<ImageInfo> {
    // Alive peers first, all at once; the others (membership doubts them, so their answers may take the
    // whole timeout) only when no alive peer has the image.
    const candidates = [...peers.listPeers()].sort((a, b) => Number(b.alive) - Number(a.alive));
    context.report(`looking for image ${ref} on ${String(candidates.length)} peer(s)`);
    const outcomes: string[] = [];
    for (const round of [candidates.filter((p) => p.alive), candidates.filter((p) => !p.alive)]) {
      const answers = await Promise.all(
        round.map(async (peer) => {
          try {
            return { peer, advertised: await peers.hasImage(peer.id, ref) };
          } catch (error) {
            return { peer, error: toMonkError(error) };
          }
        }),
      );
      for (const answer of answers) {
        if (answer.error !== undefined) {
          outcomes.push(`${answer.peer.name} (${answer.error.code}: ${answer.error.message})`);
          continue;
        }
        if (answer.advertised === undefined) {
          outcomes.push(`${answer.peer.name} (does not have it)`);
          continue;
        }
        try {
          return await fetchFrom(answer.peer, { ref, advertised: answer.advertised, report: context.report });
        } catch (error) {
          const monkError = toMonkError(error);
          if (monkError.code === 'RUNTIME_UNAVAILABLE') throw monkError;
          logger.warn(`fetching image ${ref} from peer ${answer.peer.name} failed`, {
            error: monkError.toJSON(),
          });
          outcomes.push(`${answer.peer.name} (fetch failed: ${monkError.code}: ${monkError.message})`);
        }
      }
    }
    const asked = candidates.map((peer) => peer.name);
    throw new MonkError(
      'IMAGE_NOT_FOUND',
      asked.length === 0
        ? `image ${ref} is not on this peer's engine, no other peer to ask, and ${context.registry}`
        : `image ${ref} is on no peer: asked ${outcomes.join(', ')}; ${context.registry}`,
      { details: { image: ref, peersAsked: asked } },
    );
  }

  function ensure(ref: string): Promise<ImageInfo> {
    const existing = inFlight.get(ref);
    if (existing !== undefined) return existing.promise;
    const state = { message: `looking for image ${ref}` };
    const report = (message: string): void => {
      state.message = message;
      changed();
    };
    const promise = (async () => {
      const local = await images.inspectImage(ref);
      if (local !== undefined) return local;
      const registry = await fromRegistry(ref);
      if (typeof registry !== 'string') return registry;
      return fromPeers(ref, { registry, report });
    })().finally(() => inFlight.delete(ref));
    inFlight.set(ref, { promise, state });
    return promise;
  }

  return {
    ensure,
    async prepare(ref) {
      const running = inFlight.get(ref);
      if (running !== undefined) return { ready: false, message: running.state.message };
      const failure = failed.get(ref);
      if (failure !== undefined) {
        failed.delete(ref);
        throw failure;
      }
      if ((await images.inspectImage(ref)) !== undefined) return { ready: true };
      const again = inFlight.get(ref);
      if (again !== undefined) return { ready: false, message: again.state.message };
      ensure(ref).then(
        () => changed(),
        (error: unknown) => {
          failed.set(ref, toMonkError(error));
          changed();
        },
      );
      return { ready: false, message: inFlight.get(ref)?.state.message ?? `looking for image ${ref}` };
    },
  };
}
