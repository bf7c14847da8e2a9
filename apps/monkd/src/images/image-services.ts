import { toMonkError } from '@monk/model';
import type { ImageStore } from '@monk/runtime';
import type { ImageEntry, ImagesResult, PeerEntry } from '@monk/sdk';
import type { Cluster, PeerStreamProtocol } from '../cluster/cluster.ts';
import type { HandlerGroup } from '../handlers.ts';
import type { Logger } from '../logger.ts';
import { createImageExchange, type ImageExchange, type ImagePeer } from './image-exchange.ts';
import type { RegistryCredentials } from './registry-credentials.ts';
import {
  createPeerImageClient,
  imageProtocol,
  imageProtocolMaxMessageBytes,
  serveImageStream,
} from './image-protocol.ts';

/** What the image services need of the cluster; read lazily, since the cluster is built after them. */
export type ImageCluster = Pick<Cluster, 'isMember' | 'peers' | 'openStream'>;

export interface ImageServices {
  /** Registered by the cluster on its node: serves this engine's images to the cluster's peers. */
  readonly peerStream: PeerStreamProtocol;
  /** Given to the reconciler: gets missing images before containers are created. */
  readonly exchange: ImageExchange;
  /** `images.list` and `registry.*` of the control API. */
  readonly handlers: HandlerGroup;
}

/**
 * Wires the cluster exchange of one peer: the image protocol's server and client over the cluster's streams,
 * the exchange on this peer's engine, and `monk images`.
 */
export function createImageServices(
  options: {
    readonly peerName: string;
    readonly registryPull: false | { readonly timeoutMs: number };
  },
  components: {
    images: ImageStore;
    credentials: RegistryCredentials;
    cluster: () => ImageCluster;
    logger: Logger;
    now: () => number;
    onChange: () => void;
  },
): ImageServices {
  const { images, logger } = components;
  const otherPeers = (): PeerEntry[] => {
    const cluster = components.cluster();
    if (!cluster.isMember()) return [];
    return cluster.peers().filter((peer) => peer.role === 'peer' && !peer.self);
  };
  const client = createPeerImageClient({
    listPeers: (): ImagePeer[] =>
      otherPeers().map((peer) => ({ id: peer.id, name: peer.name, alive: peer.state === 'alive' })),
    openStream: (peerId, protocol, streamOptions) =>
      components.cluster().openStream(peerId, protocol, streamOptions),
  });
  const exchange = createImageExchange(
    {
      registryPull: options.registryPull,
      registryAuth: (ref) => components.credentials.authFor(ref),
    },
    { images, peers: client, logger, now: components.now, onChange: components.onChange },
  );

  async function listImages(): Promise<ImagesResult> {
    const byId = new Map<string, { repoTags: Set<string>; sizeBytes: number; peers: Set<string> }>();
    const add = (
      peer: string,
      list: readonly { id: string; repoTags: readonly string[]; sizeBytes: number }[],
    ) => {
      for (const image of list) {
        const entry = byId.get(image.id) ?? {
          repoTags: new Set(),
          sizeBytes: image.sizeBytes,
          peers: new Set(),
        };
        for (const tag of image.repoTags) entry.repoTags.add(tag);
        entry.peers.add(peer);
        byId.set(image.id, entry);
      }
    };
    add(options.peerName, await images.listImages());
    const unreachable: { peer: string; message: string }[] = [];
    await Promise.all(
      otherPeers().map(async (peer) => {
        if (peer.state !== 'alive') {
          unreachable.push({ peer: peer.name, message: `peer is ${peer.state}` });
          return;
        }
        try {
          add(peer.name, await client.listImages(peer.id));
        } catch (error) {
          unreachable.push({ peer: peer.name, message: toMonkError(error).message });
        }
      }),
    );
    const entries: ImageEntry[] = [...byId.entries()].map(([id, entry]) => ({
      id,
      repoTags: [...entry.repoTags].sort(),
      sizeBytes: entry.sizeBytes,
      peers: [...entry.peers].sort(),
    }));
    entries.sort((a, b) => (a.repoTags[0] ?? a.id).localeCompare(b.repoTags[0] ?? b.id));
    unreachable.sort((a, b) => a.peer.localeCompare(b.peer));
    return { images: entries, unreachable };
  }

  return {
    peerStream: {
      protocol: imageProtocol,
      maxMessageBytes: imageProtocolMaxMessageBytes,
      handler: (stream, context) => serveImageStream(stream, { isPeer: context.isPeer }, { images, logger }),
    },
    exchange,
    handlers: {
      'images.list': async () => listImages(),
      'registry.login': async (params) => {
        const entry = await components.credentials.login(params);
        logger.info(`stored credentials for registry ${entry.server}`, { username: entry.username });
        return entry;
      },
      'registry.list': async () => components.credentials.list(),
      'registry.logout': async (params) => {
        const entry = await components.credentials.logout(params.server);
        logger.info(`forgot the credentials for registry ${entry.server}`);
        return entry;
      },
    },
  };
}
