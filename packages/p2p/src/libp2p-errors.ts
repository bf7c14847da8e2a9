import { MonkError } from '@monk/model';
import type { ErrorCode } from '@monk/model';

// libp2p errors are recognised by name: their classes live in several packages and versions.
const codeByName: Readonly<Record<string, ErrorCode>> = {
  DialDeniedError: 'NOT_A_MEMBER',
  ConnectionInterceptedError: 'NOT_A_MEMBER',
  MuxerUnavailableError: 'NOT_A_MEMBER',
  UnsupportedProtocolError: 'PROTOCOL_ERROR',
  InvalidMessageLengthError: 'PROTOCOL_ERROR',
  InvalidDataLengthLengthError: 'PROTOCOL_ERROR',
  InvalidDataLengthError: 'MESSAGE_TOO_LARGE',
  InvalidMultiaddrError: 'INVALID_REQUEST',
  InvalidParametersError: 'INVALID_REQUEST',
  NoValidAddressesError: 'PEER_UNREACHABLE',
  TimeoutError: 'TIMEOUT',
};

function* causes(error: unknown, depth = 0): Generator<Error> {
  if (!(error instanceof Error) || depth > 5) return;
  yield error;
  if (error instanceof AggregateError) for (const inner of error.errors) yield* causes(inner, depth + 1);
  yield* causes(error.cause, depth + 1);
}

/**
 * Translates anything libp2p threw into a MonkError, once, at the libp2p edge. A fired deadline wins (its
 * `TIMEOUT` or `CANCELLED`); a MonkError passes through; otherwise the first recognised error name decides
 * and the rest is `PEER_UNREACHABLE`.
 */
export function translateLibp2pError(
  error: unknown,
  context: { readonly what: string; readonly deadline?: { reason(): MonkError | undefined } },
): MonkError {
  const fired = context.deadline?.reason();
  if (fired !== undefined) return fired;
  if (error instanceof MonkError) return error;
  for (const cause of causes(error)) {
    if (cause instanceof MonkError) return cause;
    const code = codeByName[cause.name];
    if (code !== undefined) return new MonkError(code, `${context.what}: ${cause.message}`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new MonkError('PEER_UNREACHABLE', `${context.what}: ${message}`, { cause: error });
}
