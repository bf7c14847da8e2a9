/**
 * The closed set of error codes that cross every boundary of monk: package to package, monkd to CLI, peer to
 * peer. Codes are stable; messages are for people. Add a code here before using it anywhere.
 */
export const errorCodes = [
  // input: templates, variables, requests
  'TEMPLATE_PARSE_ERROR',
  'TEMPLATE_INVALID',
  'TEMPLATE_NOT_FOUND',
  'TEMPLATE_CYCLE',
  'TEMPLATE_TOO_LARGE',
  'EMBED_NOT_FOUND',
  'MANIFEST_INVALID',
  'COMPOSE_INVALID',
  'ARROW_SYNTAX',
  'ARROW_EVAL',
  'ARROW_UNKNOWN_OPERATOR',
  'VARIABLE_INVALID',
  'VARIABLE_REQUIRED',
  'VARIABLE_UNKNOWN',
  'SECRET_NOT_FOUND',
  'SECRET_NOT_PERMITTED',
  'ACTION_NOT_FOUND',
  'INVALID_REQUEST',
  // workloads and the container runtime
  'RUNNABLE_NOT_FOUND',
  'NOT_RUNNING',
  'CONTAINER_NOT_FOUND',
  'IMAGE_NOT_FOUND',
  'REGISTRY_UNAVAILABLE',
  'RUNTIME_UNAVAILABLE',
  'RUNTIME_ERROR',
  'CHECK_FAILED',
  'DEPLOY_FAILED',
  'UNSCHEDULABLE',
  // state and storage
  'GRAPH_CORRUPT',
  'STORAGE_FAILED',
  'SCHEMA_VERSION_UNSUPPORTED',
  'DATA_FILE_INVALID',
  // daemon, cluster, network
  'DAEMON_UNAVAILABLE',
  'TIMEOUT',
  'CANCELLED',
  'PEER_NOT_FOUND',
  'PEER_UNREACHABLE',
  'NOT_A_MEMBER',
  'ACCESS_DENIED',
  'PERMISSION_DENIED',
  'CLUSTER_EXISTS',
  'CLUSTER_NOT_FOUND',
  'CONTEXT_NOT_FOUND',
  'JOIN_TOKEN_INVALID',
  'JOIN_TOKEN_EXPIRED',
  'JOIN_TOKEN_USED',
  /** The cluster's mesh address plan has no subnet left for a joining peer. */
  'MESH_ADDRESSES_EXHAUSTED',
  'PROTOCOL_ERROR',
  'MESSAGE_TOO_LARGE',
  'RATE_LIMITED',
  'NETWORK_ERROR',
  'PROVIDER_ERROR',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/** Where in a template something is: file, 1-based line and column, and the key path inside the document. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Key path such as `wordpress/containers/wp/image`. */
  readonly path: string;
}

export interface MonkErrorOptions {
  readonly cause?: unknown;
  readonly location?: SourceLocation;
  /** Plain JSON details a client may show (never secrets). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * The one error class of monk. Throw it with a code from {@link errorCodes}; each edge translates foreign
 * errors into it exactly once (a Docker 404 becomes `CONTAINER_NOT_FOUND` in the runtime adapter).
 *
 * @example
 * throw new MonkError('TEMPLATE_NOT_FOUND', 'no template at ns/app', { details: { path: 'ns/app' } });
 */
export class MonkError extends Error {
  readonly code: ErrorCode;
  readonly location: SourceLocation | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options: MonkErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MonkError';
    this.code = code;
    this.location = options.location;
    this.details = options.details;
  }

  /** The wire form: what crosses monkd → CLI and peer → peer. */
  toJSON(): SerializedError {
    return {
      code: this.code,
      message: this.message,
      ...(this.location === undefined ? {} : { location: this.location }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

/** An error as it travels on the wire. */
export interface SerializedError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly location?: SourceLocation;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** True when `value` is a known error code. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (errorCodes as readonly string[]).includes(value);
}

/** Rebuilds a {@link MonkError} from its wire form; an unknown code becomes `INTERNAL`. */
export function deserializeError(value: unknown): MonkError {
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const code = isErrorCode(record['code']) ? record['code'] : 'INTERNAL';
    const message = typeof record['message'] === 'string' ? record['message'] : 'unknown error';
    const location = record['location'] as SourceLocation | undefined;
    const details = record['details'] as Record<string, unknown> | undefined;
    return new MonkError(code, message, {
      ...(location === undefined ? {} : { location }),
      ...(details === undefined ? {} : { details }),
    });
  }
  return new MonkError('INTERNAL', String(value));
}

/** Wraps anything thrown into a {@link MonkError}, keeping a MonkError as it is. */
export function toMonkError(error: unknown, fallback: ErrorCode = 'INTERNAL'): MonkError {
  if (error instanceof MonkError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new MonkError(fallback, message, { cause: error });
}

/** Formats a location as `file:line:column (key path)`. */
export function formatLocation(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.column} (${location.path})`;
}
