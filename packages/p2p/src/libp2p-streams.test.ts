import type { Stream } from '@libp2p/interface';
import { streamPair } from '@libp2p/utils';
import { MonkError } from '@monk/model';
import { describe, expect, it } from 'vitest';
import { encodeFrame, exchangeRequest, serveRequestStream, toMessageStream } from './libp2p-streams.ts';
import { silentLogger } from './p2p-logger.ts';
import type { RequestHandler } from './p2p-node.ts';
import { decodeResponse } from './response-frame.ts';
import { createFrameDecoder } from './frame-decoder.ts';

const context = { from: 'peer-a', protocol: '/test' };
const echo: RequestHandler = (request) => Promise.resolve(request);

async function serve(options: {
  handler?: RequestHandler;
  refusal?: MonkError;
  send: (stream: Stream) => Promise<void>;
}) {
  const [client, server] = await streamPair();
  const served = serveRequestStream(server, {
    handler: options.handler ?? echo,
    context,
    maxMessageBytes: 16,
    refusal: options.refusal,
    readTimeoutMs: 5_000,
    logger: silentLogger,
  });
  await options.send(client);
  const decoder = createFrameDecoder({ maxMessageBytes: 1024, where: 'test' });
  const frames: Uint8Array[] = [];
  for await (const chunk of client) frames.push(...decoder.push(chunk.subarray()));
  await served;
  expect(frames).toHaveLength(1);
  return () => decodeResponse(frames[0] ?? new Uint8Array(0), 'test');
}

const sendAndClose = (bytes: Uint8Array) => async (stream: Stream) => {
  stream.send(bytes);
  await stream.close();
};

describe('request streams (over an in-memory libp2p stream pair)', () => {
  it('answers one framed request', async () => {
    const answer = await serve({ send: sendAndClose(encodeFrame(new Uint8Array([1, 2, 3]))) });
    expect(answer()).toEqual(new Uint8Array([1, 2, 3]));
  });

  it.each([
    ['a garbage length prefix', new Uint8Array(12).fill(0xff), 'PROTOCOL_ERROR'],
    ['a truncated frame', encodeFrame(new Uint8Array(10)).subarray(0, 5), 'PROTOCOL_ERROR'],
    ['an empty stream', new Uint8Array(0), 'PROTOCOL_ERROR'],
    ['an oversized frame', encodeFrame(new Uint8Array(17)), 'MESSAGE_TOO_LARGE'],
  ])('answers %s with %s instead of crashing', async (_name, bytes, code) => {
    const answer = await serve({ send: sendAndClose(bytes) });
    expect(answer).toThrow(expect.objectContaining({ code }));
  });

  it('answers a refusal without reading the request', async () => {
    const answer = await serve({
      refusal: new MonkError('RATE_LIMITED', 'slow down'),
      send: sendAndClose(encodeFrame(new Uint8Array(4))),
    });
    expect(answer).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }));
  });

  it('carries a handler error back with its code', async () => {
    const answer = await serve({
      handler: () => Promise.reject(new MonkError('SECRET_NOT_FOUND', 'no secret db-password')),
      send: sendAndClose(encodeFrame(new Uint8Array(1))),
    });
    expect(answer).toThrow(
      expect.objectContaining({ code: 'SECRET_NOT_FOUND', message: 'no secret db-password' }),
    );
  });

  it('exchanges a request with a serving stream and refuses an oversized response', async () => {
    const [client, server] = await streamPair();
    const served = serveRequestStream(server, {
      handler: () => Promise.resolve(new Uint8Array(100)),
      context,
      maxMessageBytes: 16,
      refusal: undefined,
      readTimeoutMs: 5_000,
      logger: silentLogger,
    });
    const request = exchangeRequest(client, {
      message: new Uint8Array([1]),
      maxResponseBytes: 10,
      signal: AbortSignal.timeout(5_000),
      where: 'test',
    });
    await expect(request).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    await served;
  });

  it('frames messages on a long-lived stream and ends iteration when the remote closes', async () => {
    const [left, right] = await streamPair();
    const a = toMessageStream(left, { peerId: 'b', protocol: '/s', maxMessageBytes: 64 });
    const b = toMessageStream(right, { peerId: 'a', protocol: '/s', maxMessageBytes: 64 });
    await a.send(new Uint8Array([1]));
    await a.send(new Uint8Array([2, 2]));
    await a.close();
    const received: Uint8Array[] = [];
    for await (const message of b) received.push(message);
    expect(received).toEqual([new Uint8Array([1]), new Uint8Array([2, 2])]);
    await expect(a.send(new Uint8Array(65))).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
  });
});
