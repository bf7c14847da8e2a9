import type { ErrorCode } from '@monk/model';

/**
 * Exit codes of `monk`, by error code. Stable: scripts may rely on them (documented in docs/cli.md).
 * 1 anything else, 2 bad input, 3 no daemon, 4 not found, 5 deploy or check failed, 6 timed out.
 */
export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'TEMPLATE_PARSE_ERROR':
    case 'TEMPLATE_INVALID':
    case 'TEMPLATE_CYCLE':
    case 'TEMPLATE_TOO_LARGE':
    case 'EMBED_NOT_FOUND':
    case 'MANIFEST_INVALID':
    case 'COMPOSE_INVALID':
    case 'ARROW_SYNTAX':
    case 'ARROW_EVAL':
    case 'ARROW_UNKNOWN_OPERATOR':
    case 'VARIABLE_INVALID':
    case 'VARIABLE_REQUIRED':
    case 'VARIABLE_UNKNOWN':
    case 'SECRET_NOT_PERMITTED':
    case 'INVALID_REQUEST':
    case 'JOIN_TOKEN_INVALID':
    case 'JOIN_TOKEN_EXPIRED':
    case 'JOIN_TOKEN_USED':
      return 2;
    case 'DAEMON_UNAVAILABLE':
    case 'PEER_UNREACHABLE':
    case 'RUNTIME_UNAVAILABLE':
    case 'REGISTRY_UNAVAILABLE':
      return 3;
    case 'TEMPLATE_NOT_FOUND':
    case 'RUNNABLE_NOT_FOUND':
    case 'CONTAINER_NOT_FOUND':
    case 'IMAGE_NOT_FOUND':
    case 'SECRET_NOT_FOUND':
    case 'ACTION_NOT_FOUND':
    case 'PEER_NOT_FOUND':
    case 'CLUSTER_NOT_FOUND':
    case 'CONTEXT_NOT_FOUND':
    case 'NOT_RUNNING':
      return 4;
    case 'DEPLOY_FAILED':
    case 'CHECK_FAILED':
    case 'UNSCHEDULABLE':
      return 5;
    case 'TIMEOUT':
      return 6;
    case 'RUNTIME_ERROR':
    case 'GRAPH_CORRUPT':
    case 'STORAGE_FAILED':
    case 'SCHEMA_VERSION_UNSUPPORTED':
    case 'DATA_FILE_INVALID':
    case 'CANCELLED':
    case 'NOT_A_MEMBER':
    case 'ACCESS_DENIED':
    case 'PERMISSION_DENIED':
    case 'CLUSTER_EXISTS':
    case 'MESH_ADDRESSES_EXHAUSTED':
    case 'PROTOCOL_ERROR':
    case 'MESSAGE_TOO_LARGE':
    case 'RATE_LIMITED':
    case 'NETWORK_ERROR':
    case 'PROVIDER_ERROR':
    case 'INTERNAL':
      return 1;
    default: {
      const unknown: never = code;
      return unknown;
    }
  }
}
