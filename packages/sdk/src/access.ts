import { MonkError, operatorAccessLevels, type OperatorAccess } from '@monk/model';
import type { MethodName } from './protocol.ts';

/**
 * Who made a control call that arrived over the network. Peers are trusted with everything (each holds
 * the cluster's secrets key); an operator has the access its join token was minted with. A call on the
 * local unix socket comes from the host itself and is never checked.
 */
export type Caller =
  | { readonly role: 'peer'; readonly id: string }
  | {
      readonly role: 'operator';
      readonly id: string;
      readonly name: string;
      readonly access: OperatorAccess;
    };

/**
 * What a method needs from an operator: an access level, or `host` for what only the peer's own host
 * may do to it (create, join or leave a cluster).
 */
export type MethodAccess = OperatorAccess | 'host';

/** The least access each method of the control protocol needs from an operator. */
export const methodAccess = {
  info: 'view',
  'templates.put': 'deploy',
  'templates.list': 'view',
  'templates.dump': 'view',
  plan: 'view',
  run: 'deploy',
  update: 'deploy',
  scale: 'deploy',
  stop: 'deploy',
  restart: 'deploy',
  purge: 'deploy',
  ps: 'view',
  describe: 'view',
  events: 'view',
  logs: 'view',
  // exec runs anything inside a container and shows what the container sees, its secrets included.
  exec: 'deploy',
  stats: 'view',
  // A connection into a container reaches whatever it serves, unauthenticated admin ports included.
  portForward: 'deploy',
  'cluster.new': 'host',
  'cluster.joinToken': 'admin',
  'cluster.join': 'host',
  'cluster.info': 'view',
  'cluster.peers': 'view',
  'cluster.peerTags': 'admin',
  // An operator may always remove itself (monk cluster exit); see authorizeCall.
  'cluster.peerRemove': 'admin',
  'cluster.exit': 'host',
  'cluster.shrink': 'admin',
  'cluster.destroy': 'admin',
  // Grows the cluster with hosts the answering peer's machine (or cloud account) pays for.
  'cluster.grow': 'admin',
  // Secrets are write-only through the API: adding one reveals nothing.
  'secrets.add': 'deploy',
  'secrets.list': 'view',
  'secrets.remove': 'deploy',
  do: 'deploy',
  'images.list': 'view',
  // Registry credentials are secrets: stored like them, never shown.
  'registry.login': 'deploy',
  'registry.list': 'view',
  'registry.logout': 'deploy',
} as const satisfies { readonly [M in MethodName]: MethodAccess };

/** The access an operator needs to see a value derived from a secret (an action's result). */
export const secretValueAccess: OperatorAccess = 'admin';

const rank = (access: OperatorAccess): number => operatorAccessLevels.indexOf(access);

/** True when `access` is at least `needed`. */
export function hasAccess(access: OperatorAccess, needed: OperatorAccess): boolean {
  return rank(access) >= rank(needed);
}

function describeOperator(caller: Caller & { role: 'operator' }): string {
  return `operator ${caller.name} (${caller.id}) has ${caller.access} access`;
}

/**
 * Decides whether `caller` may call `method` with `params` (validated parameters), before it runs.
 * Throws `ACCESS_DENIED` naming the method, the access needed and the caller's access; returns nothing
 * when the call may go ahead.
 *
 * @example
 * authorizeCall({ caller: { role: 'operator', id, name: 'laptop', access: 'deploy' }, method: 'cluster.joinToken', params: {} });
 * // throws ACCESS_DENIED: cluster.joinToken needs admin access; operator laptop (12D3…) has deploy access
 */
export function authorizeCall(options: { caller: Caller; method: MethodName; params: unknown }): void {
  const { caller, method, params } = options;
  if (caller.role === 'peer') return;
  if (method === 'cluster.peerRemove' && isRemovalOf(params, caller.id)) return;
  const needed: MethodAccess = methodAccess[method];
  if (needed === 'host') {
    throw new MonkError(
      'ACCESS_DENIED',
      `${method} needs the peer's own host (run it there on the local monkd); ${describeOperator(caller)}`,
      { details: { method, access: caller.access, needed } },
    );
  }
  if (!hasAccess(caller.access, needed)) {
    throw new MonkError('ACCESS_DENIED', `${method} needs ${needed} access; ${describeOperator(caller)}`, {
      details: { method, access: caller.access, needed },
    });
  }
}

/**
 * Decides whether `caller` may see the result of a call that ran: a result marked `secret: true` (an
 * action whose value came from a secret) needs {@link secretValueAccess}. Throws `ACCESS_DENIED` otherwise.
 */
export function authorizeResult(options: { caller: Caller; method: MethodName; result: unknown }): void {
  const { caller, method, result } = options;
  if (caller.role === 'peer' || !isSecretResult(result)) return;
  if (hasAccess(caller.access, secretValueAccess)) return;
  throw new MonkError(
    'ACCESS_DENIED',
    `${method}: the result comes from a secret, and reading secret values needs ${secretValueAccess} access; ${describeOperator(caller)}`,
    { details: { method, access: caller.access, needed: secretValueAccess } },
  );
}

function isRemovalOf(params: unknown, id: string): boolean {
  return typeof params === 'object' && params !== null && (params as { id?: unknown }).id === id;
}

function isSecretResult(result: unknown): boolean {
  return typeof result === 'object' && result !== null && (result as { secret?: unknown }).secret === true;
}
