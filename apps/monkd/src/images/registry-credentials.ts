import { MonkError } from '@monk/model';
import type { RegistryAuth } from '@monk/runtime';
import type { RegistryEntry } from '@monk/sdk';
import type { SecretStore } from '../secrets/secret-store.ts';

/** The secrets scope that holds registry credentials. */
export const registryScope = 'monk/registry';

/**
 * Credentials for container registries (`monk registry login`), kept as secrets of the scope
 * {@link registryScope}: encrypted with the cluster's secrets key and replicated, so whichever peer pulls
 * an image has them. Passwords never leave monkd except towards the registry.
 *
 * @example
 * await credentials.login({ server: 'registry.example.com', username: 'ci', password: 'hunter2' });
 * await credentials.authFor('registry.example.com/team/app:1'); // { username: 'ci', password: 'hunter2', serverAddress: 'registry.example.com' }
 */
export interface RegistryCredentials {
  /** Stores (or replaces) the credentials of a registry. Throws `INVALID_REQUEST` for a malformed server. */
  login(options: { server: string; username: string; password: string }): Promise<RegistryEntry>;
  /** The registries that have credentials, with their user names; never passwords. */
  list(): Promise<RegistryEntry[]>;
  /** Forgets a registry's credentials. Throws `SECRET_NOT_FOUND` when it has none. */
  logout(server: string): Promise<RegistryEntry>;
  /** The credentials for the registry an image reference names (Docker Hub when it names none). */
  authFor(ref: string): Promise<RegistryAuth | undefined>;
}

const serverPattern = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/;

/** `registry.example.com:5000` → the secret name `registry.example.com_5000` (`:` is not allowed there). */
function secretName(server: string): string {
  return server.replace(':', '_');
}

/** The registry host of an image reference, as Docker reads it: `docker.io` unless the first part looks like a host. */
export function registryOf(ref: string): string {
  const slash = ref.indexOf('/');
  if (slash === -1) return 'docker.io';
  const first = ref.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost'
    ? first.toLowerCase()
    : 'docker.io';
}

export function createRegistryCredentials(components: { secrets: SecretStore }): RegistryCredentials {
  const { secrets } = components;

  const read = async (
    server: string,
  ): Promise<{ server: string; username: string; password: string } | undefined> => {
    const name = secretName(server);
    if (secrets.list({ scope: registryScope }).every((entry) => entry.name !== name)) return undefined;
    const stored = JSON.parse(await secrets.read({ name, runnable: registryScope })) as Partial<
      Record<'server' | 'username' | 'password', unknown>
    >;
    if (typeof stored.username !== 'string' || typeof stored.password !== 'string') return undefined;
    return {
      server: typeof stored.server === 'string' ? stored.server : server,
      username: stored.username,
      password: stored.password,
    };
  };

  const normalize = (server: string): string => {
    const normalized = server
      .trim()
      .toLowerCase()
      .replace(/^https?:\/\//, '')
      .replace(/\/+$/, '');
    if (!serverPattern.test(normalized)) {
      throw new MonkError(
        'INVALID_REQUEST',
        `"${server}" is not a registry host (such as registry.example.com or localhost:5000)`,
      );
    }
    return normalized;
  };

  return {
    async login(options) {
      const server = normalize(options.server);
      const entry = await secrets.add({
        name: secretName(server),
        scope: registryScope,
        value: JSON.stringify({ server, username: options.username, password: options.password }),
      });
      return { server, username: options.username, updatedAt: entry.updatedAt };
    },
    async list() {
      const entries: RegistryEntry[] = [];
      for (const entry of secrets.list({ scope: registryScope })) {
        const stored = await read(entry.name.replace('_', ':')).catch(() => undefined);
        entries.push({
          server: stored?.server ?? entry.name,
          username: stored?.username ?? '',
          updatedAt: entry.updatedAt,
        });
      }
      return entries.sort((a, b) => a.server.localeCompare(b.server));
    },
    async logout(server) {
      const normalized = normalize(server);
      const removed = await secrets.remove({ name: secretName(normalized), scope: registryScope });
      return { server: normalized, username: '', updatedAt: removed.updatedAt };
    },
    async authFor(ref) {
      const server = registryOf(ref);
      const stored = await read(server);
      if (stored === undefined) return undefined;
      return { username: stored.username, password: stored.password, serverAddress: server };
    },
  };
}
