import { deserializeError, MonkError, toMonkError } from '@monk/model';
import type { MessageStream } from '@monk/p2p';
import type { ImageInfo, ImageStore } from '@monk/runtime';
import type { Logger } from '../logger.ts';
import type { AdvertisedImage, ImagePeer, ImagePeerTransport } from './image-exchange.ts';

/** The libp2p stream protocol every monkd serves to cluster peers (never to operators). */
export const imageProtocol = '/monk/image/1.0.0';
/** Largest message on the protocol: a data frame carries at most {@link chunkBytes}. */
export const imageProtocolMaxMessageBytes = 1024 * 1024;
const chunkBytes = 256 * 1024;

/*
 * One request a stream. The client sends one JSON message `{ v: 1, op, ref? }`; every message of the answer
 * starts with one byte: 0x01 a JSON message, 0x00 a piece of the archive.
 * - `has`:   {image: {id, sizeBytes} | null}
 * - `list`:  {images: ImageInfo[]}
 * - `fetch`: {image: {id, sizeBytes}}, then data messages, then {done: bytes}
 * Any failure is {error: SerializedError}, after which the server closes the stream.
 */
const jsonKind = 0x01;
const dataKind = 0x00;

type ImageRequest =
  | { readonly op: 'has'; readonly ref: string }
  | { readonly op: 'fetch'; readonly ref: string }
  | { readonly op: 'list' };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function jsonMessage(value: unknown): Uint8Array {
  const body = encoder.encode(JSON.stringify(value));
  const message = new Uint8Array(body.byteLength + 1);
  message[0] = jsonKind;
  message.set(body, 1);
  return message;
}

function dataMessage(chunk: Uint8Array): Uint8Array {
  const message = new Uint8Array(chunk.byteLength + 1);
  message[0] = dataKind;
  message.set(chunk, 1);
  return message;
}

function parseRequest(message: Uint8Array): ImageRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(message));
  } catch (error) {
    throw new MonkError('PROTOCOL_ERROR', 'malformed image request', { cause: error });
  }
  const request = parsed as { v?: unknown; op?: unknown; ref?: unknown };
  if (request.v !== 1) throw new MonkError('PROTOCOL_ERROR', 'unsupported image protocol version');
  if (request.op === 'list') return { op: 'list' };
  if (
    (request.op === 'has' || request.op === 'fetch') &&
    typeof request.ref === 'string' &&
    request.ref !== ''
  ) {
    return { op: request.op, ref: request.ref };
  }
  throw new MonkError('PROTOCOL_ERROR', 'malformed image request');
}

/**
 * Serves one stream of the image protocol from the local engine. `isPeer` is the caller's role as the graph
 * records it: operators and strangers are refused with `NOT_A_MEMBER`. A `fetch` is sent as fast as the
 * reader takes it (each send waits for the stream to drain). Never throws.
 */
export async function serveImageStream(
  stream: MessageStream,
  context: { readonly isPeer: boolean },
  components: { images: ImageStore; logger: Logger },
): Promise<void> {
  const { images, logger } = components;
  try {
    const first = await stream[Symbol.asyncIterator]().next();
    if (first.done === true) return;
    if (!context.isPeer) {
      throw new MonkError('NOT_A_MEMBER', 'only cluster peers may ask for images');
    }
    const request = parseRequest(first.value);
    switch (request.op) {
      case 'has': {
        const image = await images.inspectImage(request.ref);
        await stream.send(
          jsonMessage({ image: image === undefined ? null : { id: image.id, sizeBytes: image.sizeBytes } }),
        );
        return;
      }
      case 'list': {
        await stream.send(jsonMessage({ images: await images.listImages() }));
        return;
      }
      case 'fetch': {
        const image = await images.inspectImage(request.ref);
        if (image === undefined) {
          throw new MonkError('IMAGE_NOT_FOUND', `no image ${request.ref} on this peer`);
        }
        await stream.send(jsonMessage({ image: { id: image.id, sizeBytes: image.sizeBytes } }));
        logger.info(`sending image ${request.ref} to peer ${stream.peerId}`, { image: image.id });
        let sent = 0;
        for await (const chunk of images.exportImage(request.ref)) {
          for (let offset = 0; offset < chunk.byteLength; offset += chunkBytes) {
            const piece = chunk.subarray(offset, Math.min(offset + chunkBytes, chunk.byteLength));
            await stream.send(dataMessage(piece));
            sent += piece.byteLength;
          }
        }
        await stream.send(jsonMessage({ done: sent }));
        return;
      }
      default: {
        const unknown: never = request;
        throw new MonkError('PROTOCOL_ERROR', `unknown image request ${JSON.stringify(unknown)}`);
      }
    }
  } catch (error) {
    const monkError = toMonkError(error);
    logger.debug('image request failed', { peer: stream.peerId, error: monkError.message });
    await stream.send(jsonMessage({ error: monkError.toJSON() })).catch(() => undefined);
  }
}

/** How the transport reaches peers: the cluster's streams and its view of membership. */
export interface ImageStreams {
  /** The other peers of the cluster (never this one, never operators). */
  listPeers(): readonly ImagePeer[];
  openStream(
    peerId: string,
    protocol: string,
    options: { readonly timeoutMs: number; readonly maxMessageBytes: number },
  ): Promise<MessageStream>;
}

/** The image protocol's client: the exchange's transport, plus `listImages` for `monk images`. */
export interface PeerImageClient extends ImagePeerTransport {
  listImages(peerId: string): Promise<ImageInfo[]>;
}

/**
 * Creates the client side of {@link imageProtocol}. `has` and `list` time out after `timeoutMs` (default 5 s);
 * a fetch has no overall deadline (an image can be large) but fails with `PEER_UNREACHABLE` when the peer
 * goes away mid-transfer.
 */
export function createPeerImageClient(
  streams: ImageStreams,
  options: { readonly timeoutMs?: number } = {},
): PeerImageClient {
  const timeoutMs = options.timeoutMs ?? 5_000;

  async function open(peerId: string, request: ImageRequest): Promise<MessageStream> {
    const stream = await streams.openStream(peerId, imageProtocol, {
      timeoutMs,
      maxMessageBytes: imageProtocolMaxMessageBytes,
    });
    await stream.send(encoder.encode(JSON.stringify({ v: 1, ...request })));
    await stream.close();
    return stream;
  }

  function json(message: Uint8Array, peerId: string): Record<string, unknown> {
    if (message[0] !== jsonKind) {
      throw new MonkError('PROTOCOL_ERROR', `peer ${peerId} sent image data where an answer was due`);
    }
    const value = JSON.parse(decoder.decode(message.subarray(1))) as Record<string, unknown>;
    if ('error' in value) throw deserializeError(value['error']);
    return value;
  }

  async function answer(peerId: string, request: ImageRequest): Promise<Record<string, unknown>> {
    const stream = await open(peerId, request);
    const timer = setTimeout(
      () => stream.abort(new MonkError('TIMEOUT', `peer ${peerId} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      for await (const message of stream) return json(message, peerId);
      throw new MonkError('PEER_UNREACHABLE', `peer ${peerId} closed the image stream without an answer`);
    } finally {
      clearTimeout(timer);
      stream.abort();
    }
  }

  return {
    listPeers: () => streams.listPeers(),
    async hasImage(peerId, ref) {
      const reply = await answer(peerId, { op: 'has', ref });
      const image = reply['image'] as AdvertisedImage | null | undefined;
      return image ?? undefined;
    },
    async listImages(peerId) {
      const reply = await answer(peerId, { op: 'list' });
      return (reply['images'] ?? []) as ImageInfo[];
    },
    async *fetchImage(peerId, ref) {
      const stream = await open(peerId, { op: 'fetch', ref });
      let headed = false;
      let received = 0;
      try {
        for await (const message of stream) {
          if (message[0] === dataKind && headed) {
            received += message.byteLength - 1;
            yield message.subarray(1);
            continue;
          }
          const reply = json(message, peerId);
          if (!headed) {
            headed = true;
            continue;
          }
          if (reply['done'] !== received) {
            throw new MonkError(
              'PROTOCOL_ERROR',
              `peer ${peerId} sent ${String(received)} bytes of image ${ref} but announced ${String(reply['done'])}`,
            );
          }
          return;
        }
        throw new MonkError('PEER_UNREACHABLE', `peer ${peerId} stopped sending image ${ref} half-way`);
      } finally {
        stream.abort();
      }
    },
  };
}
