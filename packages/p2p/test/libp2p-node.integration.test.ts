import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { preSharedKey } from '@libp2p/pnet';
import { ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { afterEach, describe, expect, it } from 'vitest';
import { createFrameDecoder } from '../src/frame-decoder.ts';
import { createP2PNode, generateIdentity, generateNetworkKey } from '../src/index.ts';
import type { P2PNode } from '../src/index.ts';
import { toSwarmKey } from '../src/network-key.ts';
import { decodeResponse } from '../src/response-frame.ts';
import { waitFor } from '../src/test-compliance.ts';

const echo = '/monk/test/echo/1.0.0';

describe('libp2p node', () => {
  const networkKey = generateNetworkKey();
  const stops: (() => Promise<void>)[] = [];

  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()));
  });

  async function startNode(
    options: { allowList?: string[]; admissionTimeoutMs?: number; bootstrap?: string[] } = {},
  ) {
    const node = await createP2PNode({
      identity: await generateIdentity(),
      listen: { host: '127.0.0.1', port: 0 },
      networkKey,
      allowList: options.allowList ?? [],
      ...(options.admissionTimeoutMs === undefined ? {} : { admissionTimeoutMs: options.admissionTimeoutMs }),
      ...(options.bootstrap === undefined ? {} : { bootstrap: options.bootstrap }),
    });
    stops.push(() => node.stop());
    await node.start();
    node.handle(echo, (request) => Promise.resolve(request), { maxMessageBytes: 16 << 20 });
    return node;
  }

  /** A bare libp2p node speaking @libp2p/pnet, to prove wire compatibility and to send raw bytes. */
  async function startRawPeer() {
    const privateKey = await generateKeyPair('Ed25519');
    const raw = await createLibp2p({
      privateKey,
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionProtector: preSharedKey({ psk: toSwarmKey(networkKey) }),
      services: { ping: ping({ protocolPrefix: 'monk' }) },
    });
    stops.push(async () => {
      await raw.stop();
    });
    return { raw, peerId: peerIdFromPrivateKey(privateKey).toString() };
  }

  const address = (node: P2PNode): string => node.addresses()[0] ?? '';

  it('speaks the @libp2p/pnet wire format and answers malformed raw requests with PROTOCOL_ERROR (needs loopback TCP)', async () => {
    const node = await startNode();
    const { raw, peerId } = await startRawPeer();
    node.setAllowList([peerId]);

    await raw.dial(multiaddr(address(node)));
    expect(await raw.services.ping.ping(peerIdFromString(node.peerId))).toBeGreaterThanOrEqual(0);

    const stream = await raw.dialProtocol(peerIdFromString(node.peerId), echo);
    stream.send(new Uint8Array(12).fill(0xff));
    await stream.close();
    const decoder = createFrameDecoder({ maxMessageBytes: 1024, where: 'raw' });
    const frames: Uint8Array[] = [];
    for await (const chunk of stream) frames.push(...decoder.push(chunk.subarray()));
    expect(() => decodeResponse(frames[0] ?? new Uint8Array(0), 'raw')).toThrow(
      expect.objectContaining({ code: 'PROTOCOL_ERROR' }),
    );
    expect(text(await requestFrom(node, raw))).toBe('still serving');
  });

  it('keeps the private network working after a large message and hundreds of medium ones (needs loopback TCP)', async () => {
    const a = await startNode();
    const b = await startNode({ allowList: [a.peerId] });
    a.setAllowList([b.peerId]);
    await a.dial(address(b));
    // One large message, then many medium ones alternating directions: the pattern that made @libp2p/pnet's
    // shared wasm memory grow on every switch until the process crashed.
    const big = new Uint8Array(2 << 20).map((_, index) => index % 251);
    expect((await a.request(b.peerId, echo, big, { maxResponseBytes: 16 << 20 })).byteLength).toBe(
      big.byteLength,
    );
    const medium = big.subarray(0, 200_000);
    for (let round = 0; round < 150; round += 1) {
      const answer = await a.request(b.peerId, echo, medium, { timeoutMs: 30_000 });
      expect(answer.byteLength).toBe(medium.byteLength);
    }
    expect((await b.request(a.peerId, echo, medium)).at(-1)).toBe(medium.at(-1));
  });

  it('keeps an unlisted newcomer away from libp2p protocols until it is listed (needs loopback TCP)', async () => {
    const member = await startNode();
    member.handle('/monk/test/join/1.0.0', () => Promise.resolve(new Uint8Array(0)), { allowUnlisted: true });
    const { raw, peerId } = await startRawPeer();

    await raw.dial(multiaddr(address(member)));
    await expect(raw.services.ping.ping(peerIdFromString(member.peerId))).rejects.toThrow();
    member.setAllowList([peerId]);
    expect(await raw.services.ping.ping(peerIdFromString(member.peerId))).toBeGreaterThanOrEqual(0);
  });

  it('disconnects an unlisted newcomer when its admission window ends (needs loopback TCP)', async () => {
    const member = await startNode({ admissionTimeoutMs: 300 });
    member.handle('/monk/test/join/1.0.0', () => Promise.resolve(new Uint8Array(0)), { allowUnlisted: true });
    const newcomer = await startNode({ allowList: [member.peerId] });

    await newcomer.dial(address(member));
    expect(newcomer.connectedPeers()).toEqual([member.peerId]);
    await waitFor(() => newcomer.connectedPeers().length === 0, 'the newcomer to be dropped');
  });

  it('dials its bootstrap addresses on start (needs loopback TCP)', async () => {
    const seed = await startNode();
    const joiner = await startNode({ allowList: [seed.peerId], bootstrap: [address(seed)] });
    seed.setAllowList([joiner.peerId]);
    const late = await createP2PNode({
      identity: await generateIdentity(),
      listen: { host: '127.0.0.1', port: 0 },
      networkKey,
      allowList: [seed.peerId],
      bootstrap: [address(seed)],
    });
    stops.push(() => late.stop());
    seed.setAllowList([joiner.peerId, late.peerId]);
    await late.start();
    await waitFor(() => late.connectedPeers().includes(seed.peerId), 'the bootstrap connection');
  });
});

const text = (data: Uint8Array): string => new TextDecoder().decode(data);

async function requestFrom(
  node: P2PNode,
  raw: Awaited<ReturnType<typeof createLibp2p>>,
): Promise<Uint8Array> {
  const stream = await raw.dialProtocol(peerIdFromString(node.peerId), echo);
  const body = new TextEncoder().encode('still serving');
  stream.send(Uint8Array.from([body.byteLength, ...body]));
  await stream.close();
  const decoder = createFrameDecoder({ maxMessageBytes: 1024, where: 'raw' });
  const frames: Uint8Array[] = [];
  for await (const chunk of stream) frames.push(...decoder.push(chunk.subarray()));
  return decodeResponse(frames[0] ?? new Uint8Array(0), 'raw');
}
