import { MonkError } from '@monk/model';
import { encodeErrorResponse, encodeOkResponse } from './response-frame.ts';
import { createPeerRateLimiter } from './peer-rate-limiter.ts';
import type { PeerRateLimiter } from './peer-rate-limiter.ts';
import { defaultMaxMessageBytes, defaultMaxRequestsPerSecondPerPeer } from './p2p-node.ts';
import type { HandlerOptions, MessageHandlerContext, RequestHandler, StreamHandler } from './p2p-node.ts';

interface EntryLimits {
  readonly protocol: string;
  readonly maxMessageBytes: number;
  readonly allowUnlisted: boolean;
  readonly limiter: PeerRateLimiter;
}

export type ProtocolEntry =
  | (EntryLimits & { readonly kind: 'request'; readonly handler: RequestHandler })
  | (EntryLimits & { readonly kind: 'stream'; readonly handler: StreamHandler });

export type ProtocolHandler =
  | { readonly kind: 'request'; readonly handler: RequestHandler }
  | { readonly kind: 'stream'; readonly handler: StreamHandler };

/** The handlers of one node, shared by the libp2p node and its memory twin. */
export interface ProtocolRegistry {
  add(protocol: string, handler: ProtocolHandler, options: HandlerOptions): ProtocolEntry;
  get(protocol: string): ProtocolEntry | undefined;
  remove(protocol: string): void;
  /** True when some handler accepts peers that are not on the allow-list. */
  hasUnlistedProtocols(): boolean;
}

export function createProtocolRegistry(): ProtocolRegistry {
  const entries = new Map<string, ProtocolEntry>();
  return {
    add(protocol, handler, options) {
      const limits: EntryLimits = {
        protocol,
        maxMessageBytes: options.maxMessageBytes ?? defaultMaxMessageBytes,
        allowUnlisted: options.allowUnlisted ?? false,
        limiter: createPeerRateLimiter({
          ratePerSecond: options.maxRequestsPerSecondPerPeer ?? defaultMaxRequestsPerSecondPerPeer,
        }),
      };
      const entry: ProtocolEntry =
        handler.kind === 'request' ? { ...limits, ...handler } : { ...limits, ...handler };
      entries.set(protocol, entry);
      return entry;
    },
    get: (protocol) => entries.get(protocol),
    remove: (protocol) => void entries.delete(protocol),
    hasUnlistedProtocols: () => [...entries.values()].some((entry) => entry.allowUnlisted),
  };
}

/**
 * Checks whether a peer may use a protocol right now: members always (subject to the rate limit), others only
 * on protocols marked `allowUnlisted`. Returns the refusal, or undefined.
 */
export function admitPeer(
  entry: ProtocolEntry,
  options: { readonly from: string; readonly isMember: boolean },
): MonkError | undefined {
  if (!options.isMember && !entry.allowUnlisted) {
    return new MonkError('NOT_A_MEMBER', `peer ${options.from} may not use ${entry.protocol}`);
  }
  if (!entry.limiter.tryTake(options.from)) {
    return new MonkError('RATE_LIMITED', `too many requests from ${options.from} on ${entry.protocol}`);
  }
  return undefined;
}

/** The refusal of a request larger than the protocol allows. */
export function tooLarge(entry: ProtocolEntry, size?: number): MonkError {
  const got = size === undefined ? '' : ` (${String(size)} bytes)`;
  return new MonkError(
    'MESSAGE_TOO_LARGE',
    `message on ${entry.protocol} exceeds ${String(entry.maxMessageBytes)} bytes${got}`,
  );
}

/** Runs a request handler and frames its answer or its error; never throws. */
export async function answerRequest(
  handler: RequestHandler,
  options: { readonly request: Uint8Array; readonly context: MessageHandlerContext },
): Promise<Uint8Array> {
  try {
    return encodeOkResponse(await handler(options.request, options.context));
  } catch (error) {
    return encodeErrorResponse(error);
  }
}
