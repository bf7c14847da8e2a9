import type { JsonValue } from '@monk/model';

/**
 * Where Arrow reads variables. `lookup` returns `undefined` for a variable that does not exist, which Arrow treats
 * as `nil` (so `$x default("y")` works for undefined variables).
 *
 * @example
 * const scope: ArrowScope = { lookup: (name) => ({ db_name: 'wpdb' })[name] };
 */
export interface ArrowScope {
  lookup(name: string): JsonValue | undefined;
}

/**
 * The outside world, as the runtime operators of Arrow see it. Every method is optional: an expression that uses an
 * operator whose method is missing fails with `ARROW_EVAL` "operator X is not available here" (a loader can therefore
 * evaluate pure expressions with an empty host). A method that rejects does not fail the evaluation at once: its
 * error becomes a value that `error?`, `if-error` and `default` can handle; used anywhere else it fails the
 * evaluation, keeping the host's error code (e.g. `SECRET_NOT_FOUND`) and chaining the original as `cause`.
 *
 * @example
 * const host: ArrowHost = {
 *   connectionHostname: async (name) => `${name}.monk.internal`,
 *   secret: async (name) => vault.read(name),
 *   randomUuid: () => stableUuidFor(instance),
 * };
 */
export interface ArrowHost {
  /** `connection-hostname(name)`: hostname of the target of the runnable's connection `name`. */
  connectionHostname?(name: string): Promise<string>;
  /** `connection-port(name)`: port of the service the connection `name` points at. */
  connectionPort?(name: string): Promise<number>;
  /** `connection-ip(name)`: IP address of the connection's target. */
  connectionIp?(name: string): Promise<string>;
  /** `connection-target(name)`: the target itself (an entity path or an object); feeds `entity-state`. */
  connectionTarget?(name: string): Promise<JsonValue>;
  /** `connection-domain-name(name)`: public domain name of the connection's target (ingress). */
  connectionDomainName?(name: string): Promise<string>;
  /** `connection-public-ip(name)`: public IP of the peer that runs the connection's target. */
  connectionPublicIp?(name: string): Promise<string>;
  /** `connection-public-port(name)`: published port of the connection's target. */
  connectionPublicPort?(name: string): Promise<number>;
  /** `get-hostname(runnable, container)`. */
  getHostname?(runnable: string, container: string): Promise<string>;
  /** `get-container-ip(runnable, container)`. */
  getContainerIp?(runnable: string, container: string): Promise<string>;
  /** `get-resolver-ip`: the DNS resolver containers should use. */
  getResolverIp?(): Promise<string>;
  /** `container-name(container)`: the engine's name of a container of the current runnable. */
  containerName?(container: string): Promise<string>;
  /** `container-domain-name(runnable, container)`. */
  containerDomainName?(runnable: string, container: string): Promise<string>;
  /** `peer-ip-address(runnable)`: external IP of the peer running `runnable`. */
  peerIpAddress?(runnable: string): Promise<string>;
  /** `ip-address-public`: public IP of this peer. */
  ipAddressPublic?(): Promise<string>;
  /** `ssl-certificate` / `ssl-private-key`: the TLS material the cluster issued for this runnable. */
  sslCertificate?(): Promise<string>;
  sslPrivateKey?(): Promise<string>;
  /** `secret(name)`: a permitted secret's value. Reject with `SECRET_NOT_FOUND` / `SECRET_NOT_PERMITTED`. */
  secret?(name: string): Promise<string>;
  /** `exec(container, cmd, args…)`: runs a command in a container of the runnable; resolves to its stdout. */
  exec?(container: string, command: string[]): Promise<string>;
  /** `http-get(url, options?)`: the response body. */
  httpGet?(url: string, options?: { readonly headers?: Readonly<Record<string, string>> }): Promise<string>;
  /** `body http-post(url, options?)`: the response body. */
  httpPost?(
    url: string,
    request: { readonly body: string; readonly headers?: Readonly<Record<string, string>> },
  ): Promise<string>;
  /** `entity(path)`: an entity's definition. */
  entity?(path: string): Promise<JsonValue>;
  /** `entity-state(path)`: an entity's current state. */
  entityState?(path: string): Promise<JsonValue>;
  /** `runnable-peers(path)`: the peers running a runnable. */
  runnablePeers?(path: string): Promise<JsonValue>;
  /** `act(action, name, value, …)`: runs an action with named arguments. */
  act?(action: string, args: Record<string, JsonValue>): Promise<JsonValue>;
  /** `wait-for(…)`: retries an action until it succeeds or the time runs out. */
  waitFor?(options: { condition: JsonValue; timeoutSeconds: number }): Promise<JsonValue>;
  /** `set(name)`: writes a control-plane variable. */
  setVariable?(name: string, value: JsonValue): Promise<void>;
  /** `random-uuid`: must be stable per instance (the same instance gets the same UUID on every evaluation). */
  randomUuid?(): string;
}
