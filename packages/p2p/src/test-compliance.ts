import { MonkError } from '@monk/model';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageStream, P2PNode } from './p2p-node.ts';

/** What the compliance suite needs from an implementation of {@link P2PNode}. */
export interface ComplianceHarness {
  /** Words appended to every test name, e.g. `(needs loopback TCP)`. */
  readonly suffix: string;
  /** A started node with an empty allow-list; `foreignKey` gives it a different network key. */
  createNode(options?: { readonly foreignKey?: boolean }): Promise<P2PNode>;
  /** Stops the node and starts a new one with the same identity on a different address. */
  restartNode(node: P2PNode): Promise<P2PNode>;
  /** Stops every node the harness created. */
  cleanup(): Promise<void>;
}

const echo = '/monk/test/echo/1.0.0';
const fail = '/monk/test/fail/1.0.0';
const join = '/monk/test/join/1.0.0';
const upper = '/monk/test/upper/1.0.0';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

/** Resolves once `check` holds; polls because connection events are asynchronous on both sides. */
export async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof MonkError ? error.code : `not a MonkError: ${String(error)}`;
  }
  return 'resolved';
}

async function collect(stream: MessageStream): Promise<string[]> {
  const messages: string[] = [];
  for await (const message of stream) messages.push(text(message));
  return messages;
}

function allowEachOther(nodes: readonly P2PNode[]): void {
  for (const node of nodes) node.setAllowList(nodes.map((other) => other.peerId));
}

function firstAddress(node: P2PNode): string {
  const address = node.addresses()[0];
  if (address === undefined) throw new Error(`node ${node.peerId} has no address`);
  return address;
}

/** The one behaviour suite every P2PNode implementation passes (memory twin and libp2p). */
export function runP2PComplianceTests(harness: ComplianceHarness): void {
  const name = (title: string): string => `${title} ${harness.suffix}`.trim();

  describe('P2PNode compliance', () => {
    afterEach(async () => {
      await harness.cleanup();
    });

    async function pair(): Promise<[P2PNode, P2PNode]> {
      const a = await harness.createNode();
      const b = await harness.createNode();
      allowEachOther([a, b]);
      return [a, b];
    }

    it(name('dials a member, reports the connection on both sides and answers requests'), async () => {
      const [a, b] = await pair();
      const seenByB: string[] = [];
      b.onPeerConnected((peerId) => seenByB.push(peerId));
      b.handle(echo, (request, context) =>
        Promise.resolve(bytes(`${context.from}:${context.protocol}:${text(request)}`)),
      );

      expect(await a.dial(firstAddress(b))).toBe(b.peerId);
      await waitFor(() => b.connectedPeers().includes(a.peerId), 'b to see a');
      expect(a.connectedPeers()).toEqual([b.peerId]);
      expect(seenByB).toEqual([a.peerId]);
      expect(text(await a.request(b.peerId, echo, bytes('hi')))).toBe(`${a.peerId}:${echo}:hi`);
      expect(firstAddress(b)).toContain(`/p2p/${b.peerId}`);
    });

    it(name('rethrows handler errors with their code'), async () => {
      const [a, b] = await pair();
      b.handle(fail, (request) =>
        Promise.reject(
          text(request) === 'monk'
            ? new MonkError('RUNNABLE_NOT_FOUND', 'no runnable ns/app')
            : new Error('boom'),
        ),
      );
      await a.dial(firstAddress(b));

      const error = await a.request(b.peerId, fail, bytes('monk')).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(MonkError);
      expect(error).toMatchObject({ code: 'RUNNABLE_NOT_FOUND', message: 'no runnable ns/app' });
      expect(await codeOf(a.request(b.peerId, fail, bytes('other')))).toBe('INTERNAL');
      expect(await codeOf(a.request(b.peerId, '/monk/test/none/1.0.0', bytes('x')))).toBe('PROTOCOL_ERROR');
    });

    it(
      name('answers an oversized request with MESSAGE_TOO_LARGE and keeps the connection usable'),
      async () => {
        const [a, b] = await pair();
        b.handle(echo, (request) => Promise.resolve(request), { maxMessageBytes: 1024 });
        await a.dial(firstAddress(b));

        expect(await codeOf(a.request(b.peerId, echo, new Uint8Array(200_000)))).toBe('MESSAGE_TOO_LARGE');
        expect(text(await a.request(b.peerId, echo, bytes('small')))).toBe('small');
        expect(await codeOf(a.request(b.peerId, echo, new Uint8Array(1000), { maxResponseBytes: 10 }))).toBe(
          'MESSAGE_TOO_LARGE',
        );
        expect(a.connectedPeers()).toEqual([b.peerId]);
      },
    );

    it(name('rate-limits requests per peer'), async () => {
      const [a, b] = await pair();
      b.handle(echo, (request) => Promise.resolve(request), { maxRequestsPerSecondPerPeer: 2 });
      await a.dial(firstAddress(b));

      const codes = await Promise.all(
        Array.from({ length: 20 }, () => codeOf(a.request(b.peerId, echo, bytes('x')))),
      );
      expect(codes.filter((code) => code === 'RATE_LIMITED').length).toBeGreaterThan(0);
      expect(codes.filter((code) => code === 'resolved').length).toBeGreaterThanOrEqual(2);
      expect(codes.every((code) => code === 'RATE_LIMITED' || code === 'resolved')).toBe(true);
    });

    it(
      name('fails a request that gets no answer with TIMEOUT and a cancelled one with CANCELLED'),
      async () => {
        const [a, b] = await pair();
        b.handle(echo, () => new Promise<Uint8Array>(() => undefined));
        await a.dial(firstAddress(b));

        expect(await codeOf(a.request(b.peerId, echo, bytes('x'), { timeoutMs: 200 }))).toBe('TIMEOUT');
        const controller = new AbortController();
        const pending = a.request(b.peerId, echo, bytes('x'), { signal: controller.signal });
        controller.abort();
        expect(await codeOf(pending)).toBe('CANCELLED');
      },
    );

    it(name('carries framed messages both ways on a stream'), async () => {
      const [a, b] = await pair();
      b.handleStream(upper, async (stream, context) => {
        expect(context.from).toBe(a.peerId);
        for await (const message of stream) await stream.send(bytes(text(message).toUpperCase()));
      });
      await a.dial(firstAddress(b));

      const stream = await a.openStream(b.peerId, upper);
      expect(stream.peerId).toBe(b.peerId);
      const replies = collect(stream);
      for (const word of ['one', 'two', 'three']) await stream.send(bytes(word));
      await stream.close();
      expect(await replies).toEqual(['ONE', 'TWO', 'THREE']);
    });

    it(name('ends a stream with MESSAGE_TOO_LARGE when a message exceeds the limit'), async () => {
      const [a, b] = await pair();
      b.handleStream(
        upper,
        async (stream) => {
          await stream.send(new Uint8Array(64));
          await stream.send(new Uint8Array(4096));
        },
        { maxMessageBytes: 1 << 20 },
      );
      await a.dial(firstAddress(b));

      const stream = await a.openStream(b.peerId, upper, { maxMessageBytes: 1024 });
      const received: number[] = [];
      const outcome = await codeOf(
        (async () => {
          for await (const message of stream) received.push(message.byteLength);
        })(),
      );
      expect(outcome).toBe('MESSAGE_TOO_LARGE');
      expect(received).toEqual([64]);
    });

    it(name('refuses a peer that is not on the allow-list'), async () => {
      const b = await harness.createNode();
      const c = await harness.createNode();
      b.handle(echo, (request) => Promise.resolve(request));
      c.setAllowList([b.peerId]);

      expect(await codeOf(c.dial(firstAddress(b)))).toBe('NOT_A_MEMBER');
      expect(await codeOf(c.request(b.peerId, echo, bytes('x')))).toBe('NOT_A_MEMBER');
      expect(await codeOf(b.request(c.peerId, echo, bytes('x')))).toBe('NOT_A_MEMBER');
      expect(b.connectedPeers()).toEqual([]);
    });

    it(name('lets an unlisted peer open only the join protocol'), async () => {
      const b = await harness.createNode();
      const c = await harness.createNode();
      b.handle(echo, (request) => Promise.resolve(request));
      b.handleStream(upper, () => Promise.resolve());
      b.handle(
        join,
        (_request, context) => {
          b.setAllowList([b.peerId, context.from]);
          return Promise.resolve(bytes('welcome'));
        },
        { allowUnlisted: true },
      );
      c.setAllowList([b.peerId]);

      expect(await c.dial(firstAddress(b))).toBe(b.peerId);
      expect(await codeOf(c.request(b.peerId, echo, bytes('x')))).toBe('NOT_A_MEMBER');
      expect(await codeOf(c.openStream(b.peerId, upper).then(collect))).not.toBe('resolved');
      expect(await codeOf(b.request(c.peerId, echo, bytes('x')))).toBe('NOT_A_MEMBER');
      expect(text(await c.request(b.peerId, join, bytes('token')))).toBe('welcome');
      expect(text(await c.request(b.peerId, echo, bytes('member now')))).toBe('member now');
    });

    it(name('disconnects a peer removed from the allow-list and refuses it afterwards'), async () => {
      const [a, b] = await pair();
      b.handle(echo, (request) => Promise.resolve(request));
      await a.dial(firstAddress(b));
      const lost: string[] = [];
      a.onPeerDisconnected((peerId) => lost.push(peerId));

      b.setAllowList([b.peerId]);
      await waitFor(() => lost.includes(b.peerId), 'a to lose b');
      expect(b.connectedPeers()).toEqual([]);
      expect(await codeOf(a.request(b.peerId, echo, bytes('x')))).toBe('NOT_A_MEMBER');
      expect(await codeOf(a.dial(firstAddress(b)))).toBe('NOT_A_MEMBER');
    });

    it(name('cannot connect with a different network key'), async () => {
      const b = await harness.createNode();
      const stranger = await harness.createNode({ foreignKey: true });
      allowEachOther([b, stranger]);

      expect(await codeOf(stranger.dial(firstAddress(b)))).toBe('PEER_UNREACHABLE');
      expect(b.connectedPeers()).toEqual([]);
      expect(stranger.connectedPeers()).toEqual([]);
    });

    it(name('finds a peer that restarted on a new address'), async () => {
      const a = await harness.createNode();
      const b = await harness.createNode();
      let c = await harness.createNode();
      allowEachOther([a, b, c]);
      await a.dial(firstAddress(b));
      await c.dial(firstAddress(b));
      await a.dial(firstAddress(c));
      const before = firstAddress(c);

      c = await harness.restartNode(c);
      allowEachOther([a, b, c]);
      c.handle(echo, (request) => Promise.resolve(request));
      await c.dial(firstAddress(b));
      const after = firstAddress(c);
      expect(after).not.toBe(before);

      expect(await a.findPeer(c.peerId)).toContain(after);
      expect(text(await a.request(c.peerId, echo, bytes('found')))).toBe('found');
    });
  });
}
