import type {
  AbortOptions,
  ConnectionProtector,
  MessageStream,
  MultiaddrConnection,
} from '@libp2p/interface';
import { AbstractMultiaddrConnection, byteStream } from '@libp2p/utils';
import { xsalsa20 } from '@noble/ciphers/salsa.js';
import { assertNetworkKey } from './network-key.ts';

// The libp2p private-network wire format (the one @libp2p/pnet and go-libp2p speak): each side sends a random
// 24-byte nonce, then every byte in each direction is XORed with the XSalsa20 keystream of (key, sender's
// nonce). @libp2p/pnet 3.0.27 encrypts through the `xsalsa20` wasm package, whose shared memory grows on every
// chunk once any connection has grown it, until the process dies with "WebAssembly.Memory.grow(): Maximum memory
// size exceeded" after about 64 MB of traffic (fixed upstream in js-libp2p#3585, not released on the registry).
// This protector speaks the same format with @noble/ciphers instead.
const nonceBytes = 24;
const blockBytes = 64;
const handshakeTimeoutMs = 5_000;

/** XORs successive chunks with one continuous XSalsa20 keystream. */
export function createKeystream(key: Uint8Array, nonce: Uint8Array): (chunk: Uint8Array) => Uint8Array {
  let position = 0;
  return (chunk) => {
    if (chunk.byteLength === 0) return new Uint8Array(0);
    const skip = position % blockBytes;
    const counter = Math.floor(position / blockBytes);
    position += chunk.byteLength;
    if (skip === 0) return xsalsa20(key, nonce, chunk, undefined, counter);
    // Resume mid-block: encrypt from the block start and drop the bytes already used.
    const padded = new Uint8Array(skip + chunk.byteLength);
    padded.set(chunk, skip);
    return xsalsa20(key, nonce, padded, undefined, counter).subarray(skip);
  };
}

type SendResult = ReturnType<AbstractMultiaddrConnection['sendData']>;
type Chunk = Parameters<AbstractMultiaddrConnection['sendData']>[0];

class PrivateNetworkConnection extends AbstractMultiaddrConnection {
  private readonly inner: MultiaddrConnection;
  private readonly encrypt: (chunk: Uint8Array) => Uint8Array;

  constructor(init: {
    readonly inner: MultiaddrConnection;
    readonly key: Uint8Array;
    readonly localNonce: Uint8Array;
    readonly remoteNonce: Uint8Array;
  }) {
    super({
      remoteAddr: init.inner.remoteAddr,
      direction: init.inner.direction,
      log: init.inner.log.newScope('monk-pnet'),
    });
    this.inner = init.inner;
    this.encrypt = createKeystream(init.key, init.localNonce);
    const decrypt = createKeystream(init.key, init.remoteNonce);
    this.inner.addEventListener('message', (event) => {
      const data = event.data;
      this.onData(decrypt(data instanceof Uint8Array ? data : data.subarray()));
    });
    this.inner.addEventListener('drain', () => this.onMuxerDrain());
    this.inner.addEventListener('close', (event) => {
      if (event.error === undefined) this.onTransportClosed();
      else if (event.local === true) this.abort(event.error);
      else this.onRemoteReset();
    });
  }

  sendData(data: Chunk): SendResult {
    return { sentBytes: data.byteLength, canSendMore: this.inner.send(this.encrypt(data.subarray())) };
  }

  sendReset(error: Error): void {
    this.inner.abort(error);
  }

  async sendClose(options?: AbortOptions): Promise<void> {
    await this.inner.close(options);
  }

  sendPause(): void {
    this.inner.pause();
  }

  sendResume(): void {
    this.inner.resume();
  }
}

function isMultiaddrConnection(stream: MessageStream): stream is MultiaddrConnection {
  return 'remoteAddr' in stream;
}

/**
 * A libp2p connection protector for a private network keyed by the cluster's 32-byte network key. Peers
 * without the key fail right after the nonce exchange: their noise handshake reads garbage.
 */
export function privateNetwork(options: { readonly networkKey: Uint8Array }): () => ConnectionProtector {
  assertNetworkKey(options.networkKey);
  const key = options.networkKey.slice();
  return () => ({
    async protect(connection, protectOptions) {
      const signal = protectOptions?.signal ?? AbortSignal.timeout(handshakeTimeoutMs);
      const localNonce = crypto.getRandomValues(new Uint8Array(nonceBytes));
      if (!isMultiaddrConnection(connection)) {
        throw new Error('the private network protects raw transport connections only');
      }
      const bytes = byteStream(connection);
      const [remote] = await Promise.all([
        bytes.read({ bytes: nonceBytes, signal }),
        bytes.write(localNonce, { signal }),
      ]);
      return new PrivateNetworkConnection({
        inner: bytes.unwrap(),
        key,
        localNonce,
        remoteNonce: remote.subarray(),
      });
    },
  });
}
