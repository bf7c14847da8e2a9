import { createHash } from 'node:crypto';
import { MonkError, toMonkError } from '@monk/model';
import type { ExpressionHost, ResolveHost } from '@monk/monkscript';
import { runnableMeshDnsName } from '@monk/network';
import type { SecretStore } from './secrets/secret-store.ts';
import { containerName, runnableHostname } from '@monk/planner';

/**
 * Builds the {@link ResolveHost} monkd gives MonkScript when it resolves a deployment (`run`, `update`,
 * `plan`) or runs an action: runnable hostnames on the workload network, secrets from the secret store
 * (runnable scope first, then global), sealing of secret-derived values, and `random-uuid` values that
 * are stable per deployment and call site, so `monk update` never rotates a generated password.
 *
 * @example
 * const hosts = createResolveHosts({ secrets });
 * await resolveDeployment({ path, templates, host: await hosts.forDeployment(path), volumeRoot });
 */
export interface ResolveHosts {
  /**
   * The host for deployment `path`. `arrowHostFor` adds runtime operators (`exec`, `http-get`) for
   * expressions evaluated on behalf of a runnable (actions). Throws `STORAGE_FAILED` when the secrets
   * key cannot be read.
   */
  forDeployment(
    path: string,
    options?: {
      arrowHostFor?: (runnablePath: string) => ExpressionHost;
      /**
       * When given, a secret that is not set does not fail resolution: it is recorded here (name and the
       * runnable that reads it) and reads as a placeholder, so one pass finds every missing secret.
       */
      missingSecrets?: Array<{ name: string; runnable: string }>;
    },
  ): Promise<ResolveHost>;
}

/**
 * How names are given when the cluster runs the WireGuard mesh: the cluster DNS names
 * (`<runnable>.<namespace>.monk`, `<container>.<runnable>.<namespace>.monk`) that every mesh peer's DNS
 * server answers with the current addresses of the instances, wherever they run.
 */
export interface MeshNames {
  /** Whether names are mesh names now: the cluster has peers in the mesh. */
  active(): boolean;
  /** The mesh addresses of the ready instances a `.monk` name stands for (undefined: no such name). */
  addresses(name: string): readonly string[] | undefined;
}

/**
 * Without `secrets` (tests), `secret()` fails with `SECRET_NOT_FOUND` and UUIDs are random. With `mesh`
 * active, `connection-hostname` and `get-hostname` give cluster DNS names, which resolve and route from
 * every mesh peer and follow an instance that moves, and `get-container-ip` / `connection-ip` the current
 * mesh address of a ready instance; otherwise the names of this peer's `monk` network (the runnable's
 * alias, the container's name).
 */
export function createResolveHosts(components: { secrets?: SecretStore; mesh?: MeshNames }): ResolveHosts {
  const { secrets, mesh } = components;
  const inMesh = (): boolean => mesh?.active() === true;
  const addressOf = async (runnablePath: string, container?: string): Promise<string> => {
    const name = runnableMeshDnsName(runnablePath, container);
    if (!inMesh())
      throw new MonkError(
        'ARROW_EVAL',
        `no address for ${name}: instance addresses are known only in the mesh (monkd --mesh); use get-hostname or connection-hostname`,
      );
    const [address] = mesh?.addresses(name) ?? [];
    if (address === undefined)
      throw new MonkError(
        'ARROW_EVAL',
        `${name} has no ready instance yet, so no address; use get-hostname or connection-hostname, which follow the instance`,
        { details: { name } },
      );
    return address;
  };
  return {
    async forDeployment(path, options = {}) {
      const base: ResolveHost = {
        hostnameOf: (runnablePath) =>
          inMesh() ? runnableMeshDnsName(runnablePath) : runnableHostname(runnablePath),
        containerHostnameOf: (runnablePath, container) =>
          inMesh() ? runnableMeshDnsName(runnablePath, container) : containerName(runnablePath, container),
        ipOf: (runnablePath) => addressOf(runnablePath),
        containerIpOf: (runnablePath, container) => addressOf(runnablePath, container),
        ...(options.arrowHostFor === undefined ? {} : { arrowHostFor: options.arrowHostFor }),
      };
      if (secrets === undefined) return base;
      // The seed is a keyed digest of the deployment path: the same on every peer that holds the
      // cluster's secrets key, for as long as the deployment is called so, and unguessable without it.
      const seed = Buffer.from(await secrets.digest('random-uuid seed', path)).toString('hex');
      return {
        ...base,
        secret: async (name, runnablePath) => {
          const missing = options.missingSecrets;
          if (missing === undefined) return secrets.read({ name, runnable: runnablePath });
          try {
            return await secrets.read({ name, runnable: runnablePath });
          } catch (error) {
            if (toMonkError(error).code !== 'SECRET_NOT_FOUND') throw error;
            if (!missing.some((entry) => entry.name === name && entry.runnable === runnablePath)) {
              missing.push({ name, runnable: runnablePath });
            }
            return `missing-secret-${name}`;
          }
        },
        sealSecret: (value) => secrets.seal(value),
        randomUuid: (key) => stableUuid(seed, key),
      };
    },
  };
}

/**
 * One error for every secret a deployment reads that is not set, each with the command that adds it
 * (`SECRET_NOT_FOUND`, `details.secrets`).
 *
 * @example
 * missingSecretsError('shop/app', [{ name: 'db-password', runnable: 'shop/db' }]);
 */
export function missingSecretsError(
  path: string,
  missing: ReadonlyArray<{ name: string; runnable: string }>,
): MonkError {
  const lines = missing.map(
    (entry) =>
      `  monk secrets add -g ${entry.name}=VALUE   # read by ${entry.runnable} (or -r ${entry.runnable} for it alone)`,
  );
  return new MonkError(
    'SECRET_NOT_FOUND',
    `${path} reads ${missing.length === 1 ? 'a secret that is' : `${missing.length} secrets that are`} not set; add ${missing.length === 1 ? 'it' : 'them'} with:\n${lines.join('\n')}`,
    {
      details: {
        path,
        secrets: missing.map((entry) => ({
          name: entry.name,
          runnable: entry.runnable,
          command: `monk secrets add -g ${entry.name}=VALUE`,
        })),
      },
    },
  );
}

/** A version-4-shaped UUID from SHA-256 of seed and key: deterministic, uniformly spread. */
export function stableUuid(seed: string, key: string): string {
  const bytes = createHash('sha256').update(`${seed}\0${key}`).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
