import type { Stream } from '@libp2p/interface';
import { createFrameDecoder } from './frame-decoder.ts';
import { MonkError } from '@monk/model';
import { translateLibp2pError } from './libp2p-errors.ts';
import type { MessageStream, MessageHandlerContext, RequestHandler } from './p2p-node.ts';
import type { P2PLogger } from './p2p-logger.ts';
import { answerRequest } from './protocol-registry.ts';
import { decodeResponse, encodeErrorResponse, encodeOkResponse } from './response-frame.ts';

/** Unsigned LEB128, the length prefix lpStream and LengthPrefixedDecoder use. */
export function encodeFrame(message: Uint8Array): Uint8Array {
  const prefix: number[] = [];
  let length = message.byteLength;
  while (length >= 0x80) {
    prefix.push((length & 0x7f) | 0x80);
    length = Math.floor(length / 0x80);
  }
  prefix.push(length);
  const frame = new Uint8Array(prefix.length + message.byteLength);
  frame.set(prefix, 0);
  frame.set(message, prefix.length);
  return frame;
}

async function sendRaw(stream: Stream, data: Uint8Array, signal: AbortSignal): Promise<void> {
  if (!stream.send(data)) await stream.onDrain({ signal });
}

async function* framesOf(
  stream: Stream,
  options: { readonly maxMessageBytes: number; readonly where: string },
): AsyncGenerator<Uint8Array> {
  const decoder = createFrameDecoder(options);
  for await (const chunk of stream) yield* decoder.push(chunk.subarray());
  if (decoder.pending() > 0) {
    throw new MonkError('PROTOCOL_ERROR', `${options.where} ended in the middle of a message`);
  }
}

async function readOneRequest(
  stream: Stream,
  options: { readonly maxMessageBytes: number; readonly where: string; readonly timeoutMs: number },
): Promise<Uint8Array | MonkError> {
  const frames = framesOf(stream, options);
  const timer = setTimeout(() => {
    stream.abort(
      new MonkError('TIMEOUT', `no request on ${options.where} within ${String(options.timeoutMs)} ms`),
    );
  }, options.timeoutMs);
  try {
    const first = await frames.next();
    if (first.done === true)
      return new MonkError('PROTOCOL_ERROR', `${options.where} ended before a request`);
    return first.value;
  } catch (error) {
    const translated = translateLibp2pError(error, { what: `reading a request on ${options.where}` });
    // A stream that ends before one whole frame arrived is a protocol error, not an unreachable peer.
    return translated.code === 'PEER_UNREACHABLE'
      ? new MonkError('PROTOCOL_ERROR', translated.message, { cause: error })
      : translated;
  } finally {
    clearTimeout(timer);
    await frames.return(undefined);
  }
}

/**
 * Serves one request on an inbound stream: reads one frame (at most `maxMessageBytes`), answers one frame, closes.
 * A refusal, an oversized or malformed frame and a handler error all become error frames; an oversized request
 * is refused from its length prefix alone and the rest of it is discarded. Never throws.
 */
export async function serveRequestStream(
  stream: Stream,
  options: {
    readonly handler: RequestHandler;
    readonly context: MessageHandlerContext;
    readonly maxMessageBytes: number;
    readonly refusal: MonkError | undefined;
    readonly readTimeoutMs: number;
    readonly logger: P2PLogger;
  },
): Promise<void> {
  const where = `${options.context.protocol} from ${options.context.from}`;
  const request =
    options.refusal ??
    (await readOneRequest(stream, {
      maxMessageBytes: options.maxMessageBytes,
      where,
      timeoutMs: options.readTimeoutMs,
    }));
  const refused = request instanceof MonkError;
  const frame = refused
    ? encodeErrorResponse(request)
    : await answerRequest(options.handler, { request, context: options.context });
  try {
    const signal = AbortSignal.timeout(options.readTimeoutMs);
    if (refused) await stream.closeRead({ signal });
    await sendRaw(stream, encodeFrame(frame), signal);
    await stream.close({ signal });
  } catch (error) {
    options.logger.debug('could not answer a request', { where, error: String(error) });
    stream.abort(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * Sends one request frame and reads the one response frame, concurrently, so that an early answer (say
 * `MESSAGE_TOO_LARGE`) arrives while a large request is still being written. Throws the remote's MonkError.
 */
export async function exchangeRequest(
  stream: Stream,
  options: {
    readonly message: Uint8Array;
    readonly maxResponseBytes: number;
    readonly signal: AbortSignal;
    readonly where: string;
  },
): Promise<Uint8Array> {
  let written = false;
  const writing = (async () => {
    await sendRaw(stream, encodeFrame(options.message), options.signal);
    await stream.close({ signal: options.signal });
    written = true;
  })();
  // A write that fails after the answer arrived (the remote stopped reading) is expected, not an error.
  writing.catch(() => undefined);
  const frames = framesOf(stream, { maxMessageBytes: options.maxResponseBytes + 1, where: options.where });
  const onAbort = (): void => stream.abort(new Error('request aborted'));
  options.signal.addEventListener('abort', onAbort, { once: true });
  let frame: Uint8Array;
  try {
    const first = await frames.next();
    if (first.done === true)
      throw new MonkError('PEER_UNREACHABLE', `${options.where} closed without an answer`);
    frame = first.value;
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)));
    const translated = translateLibp2pError(error, { what: options.where });
    if (translated.code === 'MESSAGE_TOO_LARGE') {
      throw new MonkError(
        'MESSAGE_TOO_LARGE',
        `response from ${options.where} exceeds ${String(options.maxResponseBytes)} bytes`,
        { cause: error },
      );
    }
    throw translated;
  } finally {
    options.signal.removeEventListener('abort', onAbort);
    await frames.return(undefined);
  }
  if (!written) stream.abort(new Error('the answer arrived before the request was fully sent'));
  return decodeResponse(frame, options.where);
}

/** The first frame on a long-lived stream: the server's acceptance (ok) or refusal (error frame). */
export async function acceptStream(stream: Stream, refusal: MonkError | undefined): Promise<boolean> {
  const frame = refusal === undefined ? encodeOkResponse(new Uint8Array(0)) : encodeErrorResponse(refusal);
  await sendRaw(stream, encodeFrame(frame), AbortSignal.timeout(10_000));
  if (refusal !== undefined) await stream.close({ signal: AbortSignal.timeout(10_000) });
  return refusal === undefined;
}

/**
 * Wraps a negotiated libp2p stream as a message-framed {@link MessageStream}. On the dialling side, call
 * `accepted()` first: it reads the server's acceptance frame and throws its refusal.
 */
export function toMessageStream(
  stream: Stream,
  init: { readonly peerId: string; readonly protocol: string; readonly maxMessageBytes: number },
): MessageStream & { accepted(signal: AbortSignal): Promise<void> } {
  const where = `${init.protocol} with ${init.peerId}`;
  const frames = framesOf(stream, { maxMessageBytes: init.maxMessageBytes, where });
  const fail = (error: unknown): MonkError => {
    const translated = translateLibp2pError(error, { what: `stream ${where}` });
    // The reader cannot resynchronise after a bad frame: reset so the writer learns it too.
    if (translated.code === 'MESSAGE_TOO_LARGE' || translated.code === 'PROTOCOL_ERROR')
      stream.abort(translated);
    return translated;
  };
  return {
    peerId: init.peerId,
    protocol: init.protocol,
    async accepted(signal) {
      const onAbort = (): void => stream.abort(new Error('stream negotiation aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        const first = await frames.next();
        if (first.done === true)
          throw new MonkError('PEER_UNREACHABLE', `stream ${where} closed before it was accepted`);
        decodeResponse(first.value, where);
      } catch (error) {
        throw fail(error);
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },
    async send(message) {
      if (message.byteLength > init.maxMessageBytes) {
        throw new MonkError(
          'MESSAGE_TOO_LARGE',
          `message on ${where} exceeds ${String(init.maxMessageBytes)} bytes`,
        );
      }
      try {
        await sendRaw(stream, encodeFrame(message), AbortSignal.timeout(60_000));
      } catch (error) {
        throw new MonkError('PEER_UNREACHABLE', `could not send on ${where}: ${String(error)}`, {
          cause: error,
        });
      }
    },
    async close() {
      try {
        await stream.close({ signal: AbortSignal.timeout(10_000) });
      } catch (error) {
        stream.abort(error instanceof Error ? error : new Error(String(error)));
      }
    },
    abort(reason) {
      stream.abort(reason ?? new Error('aborted'));
    },
    async *[Symbol.asyncIterator]() {
      try {
        yield* frames;
      } catch (error) {
        throw fail(error);
      }
    },
  };
}
