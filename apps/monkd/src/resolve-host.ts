import { createHash } from 'node:crypto';
import { MonkError, toMonkError } from '@monk/model';
import type { ExpressionHost, ResolveHost } from '@monk/monkscript';
import type { SecretStore } from './secrets/secret-store.ts';
import { runnableHostname } from '@monk/planner';

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

/** Without `secrets` (tests), `secret()` fails with `SECRET_NOT_FOUND` and UUIDs are random. */
export function createResolveHosts(components: { secrets?: SecretStore }): ResolveHosts {
  const { secrets } = components;
  return {
    async forDeployment(path, options = {}) {
      const base: ResolveHost = {
        hostnameOf: runnableHostname,
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
