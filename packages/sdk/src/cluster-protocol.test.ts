import { describe, expect, it } from 'vitest';
import { MonkError } from '@monk/model';
import {
  decodeJsonMessage,
  encodeJsonMessage,
  openControlChannel,
  requestJoin,
  type ControlStream,
  type JoinClientNode,
  type JoinResponse,
} from './cluster-protocol.ts';

const token = { clusterId: 'c-1', clusterName: 'prod', addresses: ['/ip4/1/p2p/x', '/ip4/2/p2p/y'] };
const request = {
  v: 1 as const,
  secret: 'a-secret-of-16-chars',
  name: 'laptop',
  role: 'operator' as const,
  addresses: [],
  tags: [],
};
const answer: JoinResponse = {
  v: 1,
  clusterId: 'c-1',
  clusterName: 'prod',
  peers: [{ id: 'y', name: 'host-y', role: 'peer', addresses: ['/ip4/2/p2p/y'] }],
};

/** A node whose dial and request outcomes are given per address (dial) and per peer id (request). */
function nodeWith(outcomes: {
  dial: Record<string, MonkError | string>;
  request: Record<string, MonkError | Uint8Array>;
}): JoinClientNode {
  return {
    dial: (address) => {
      const outcome = outcomes.dial[address];
      if (outcome === undefined || outcome instanceof MonkError)
        return Promise.reject(outcome ?? new Error());
      return Promise.resolve(outcome);
    },
    request: (peerId) => {
      const outcome = outcomes.request[peerId];
      if (outcome === undefined || outcome instanceof MonkError)
        return Promise.reject(outcome ?? new Error());
      return Promise.resolve(outcome);
    },
  };
}
const join = (node: JoinClientNode): Promise<JoinResponse> =>
  requestJoin({ node, token, request, dialTimeoutMs: 10, requestTimeoutMs: 10 });

describe('requestJoin', () => {
  it('skips an address that cannot be dialled or times out and takes the next answer', async () => {
    const node = nodeWith({
      dial: { '/ip4/1/p2p/x': 'x', '/ip4/2/p2p/y': 'y' },
      request: { x: new MonkError('TIMEOUT', 'slow'), y: encodeJsonMessage(answer) },
    });
    await expect(join(node)).resolves.toEqual(answer);
    const undialable = nodeWith({
      dial: { '/ip4/1/p2p/x': new MonkError('PEER_UNREACHABLE', 'down'), '/ip4/2/p2p/y': 'y' },
      request: { y: encodeJsonMessage(answer) },
    });
    await expect(join(undialable)).resolves.toEqual(answer);
  });

  it('passes on the issuer’s refusal of the token at once', async () => {
    const node = nodeWith({
      dial: { '/ip4/1/p2p/x': 'x', '/ip4/2/p2p/y': 'y' },
      request: { x: new MonkError('JOIN_TOKEN_USED', 'used'), y: encodeJsonMessage(answer) },
    });
    await expect(join(node)).rejects.toMatchObject({ code: 'JOIN_TOKEN_USED' });
  });

  it.each([
    ['malformed JSON', new TextEncoder().encode('{')],
    ['an unexpected message', encodeJsonMessage({ v: 1 })],
    ['another cluster', encodeJsonMessage({ ...answer, clusterId: 'c-2' })],
  ])('refuses an answer with %s as PROTOCOL_ERROR', async (_, bytes) => {
    const node = nodeWith({ dial: { '/ip4/1/p2p/x': 'x' }, request: { x: bytes } });
    await expect(join(node)).rejects.toMatchObject({ code: 'PROTOCOL_ERROR' });
  });

  it('fails with PEER_UNREACHABLE naming every address tried', async () => {
    const node = nodeWith({
      dial: { '/ip4/1/p2p/x': new MonkError('PEER_UNREACHABLE', 'refused') },
      request: {},
    });
    const error = await join(node).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PEER_UNREACHABLE' });
    expect((error as Error).message).toContain('/ip4/1/p2p/x');
    expect((error as Error).message).toContain('/ip4/2/p2p/y');
  });
});

/** A stream that answers with `frames` after the request, and records what was sent and how it ended. */
function streamOf(frames: readonly unknown[]): ControlStream & { sent: unknown[]; ending: string[] } {
  const sent: unknown[] = [];
  const ending: string[] = [];
  return {
    peerId: 'peer-1',
    sent,
    ending,
    send: (message) => {
      sent.push(decodeJsonMessage(message));
      return Promise.resolve();
    },
    close: () => {
      ending.push('close');
      return Promise.resolve();
    },
    abort: () => void ending.push('abort'),
    async *[Symbol.asyncIterator]() {
      for (const frame of frames) {
        yield typeof frame === 'string' ? new TextEncoder().encode(frame) : encodeJsonMessage(frame);
      }
    },
  };
}

describe('openControlChannel', () => {
  it('sends the request first, then reads events and the result; closing after the answer is graceful', async () => {
    const stream = streamOf([{ event: { type: 'progress' } }, { result: { ok: true } }]);
    let closed = 0;
    const channel = await openControlChannel(
      stream,
      { v: 1, method: 'ps', params: {} },
      { onClose: () => closed++ },
    );
    await channel.send({ stdin: 'aGk=' });
    const frames: unknown[] = [];
    for await (const frame of channel) {
      frames.push(frame);
      if ('result' in frame) break;
    }
    channel.close();
    expect(stream.sent).toEqual([{ v: 1, method: 'ps', params: {} }, { stdin: 'aGk=' }]);
    expect(frames).toEqual([{ event: { type: 'progress' } }, { result: { ok: true } }]);
    expect(stream.ending).toEqual(['close']);
    expect(closed).toBe(1);
  });

  it('resets the stream when closed before the answer, and refuses a frame that is not a JSON object', async () => {
    const early = streamOf([]);
    (await openControlChannel(early, { v: 1, method: 'ps', params: {} })).close();
    expect(early.ending).toEqual(['abort']);

    const channel = await openControlChannel(streamOf(['[1]']), { v: 1, method: 'ps', params: {} });
    await expect(channel[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'PROTOCOL_ERROR' });
  });
});
