import { MonkError, type ContainerSpec, type FileSpec } from '@monk/model';
import type { Graph, SecretRecord } from '@monk/graph';
import type { SecretEntry } from '@monk/sdk';
import { createSecretCipher, sealedPrefix, type SecretCipher } from './secret-cipher.ts';
import type { SecretsKeyProvider } from './secrets-key.ts';

/** The scope of secrets every runnable may read (when it lists them in `permitted-secrets`). */
export const globalScope = 'global';

/**
 * monkd's secrets: values encrypted with the cluster's secrets key and stored in the graph, so every peer
 * can read them and none stores plaintext. Also seals secret-derived values inside container specs and
 * unseals them at the last moment, when a container is created.
 *
 * @example
 * const secrets = createSecretStore({ graph, keys, now: Date.now });
 * await secrets.add({ name: 'db-password', value: 'hunter2', scope: 'global' });
 * await secrets.read({ name: 'db-password', runnable: 'shop/db' }); // 'hunter2'
 */
export interface SecretStore {
  /** Stores (or replaces) a secret and makes it durable. Throws `INVALID_REQUEST` for a bad name or scope. */
  add(options: { name: string; value: string; scope: string }): Promise<SecretEntry>;
  /** Names, scopes and times: never values. */
  list(filter?: { scope?: string }): SecretEntry[];
  /** Forgets a secret. Throws `SECRET_NOT_FOUND` when there is none. */
  remove(options: { name: string; scope: string }): Promise<SecretEntry>;
  /**
   * The value of `name` for a runnable: its own scope first, then global. Throws `SECRET_NOT_FOUND`, or
   * `STORAGE_FAILED` when this peer's key cannot decrypt it.
   */
  read(options: { name: string; runnable: string }): Promise<string>;
  seal(value: string): Promise<string>;
  /** A spec with every sealed value (environment, entrypoint, command, files) back in plaintext. */
  unsealSpec(spec: ContainerSpec): Promise<ContainerSpec>;
  unsealFiles(files: readonly FileSpec[]): Promise<FileSpec[]>;
  /** Words (an exec argv) with sealed ones back in plaintext. */
  unsealWords(words: readonly string[]): Promise<string[]>;
  /** A keyed digest for `purpose` (see {@link SecretCipher.digest}). */
  digest(purpose: string, data: string): Promise<Uint8Array>;
}

export function createSecretStore(components: {
  graph: Graph;
  /** Only reads the key; replacing it (joining a cluster) is the provider's business. */
  keys: Pick<SecretsKeyProvider, 'key'>;
  now: () => number;
}): SecretStore {
  const { graph } = components;
  let cipher: SecretCipher | undefined;
  let cipherKey: Uint8Array | undefined;
  const getCipher = async (): Promise<SecretCipher> => {
    // The key changes once, when this peer joins a cluster and adopts the cluster's key.
    const key = await components.keys.key();
    if (cipher === undefined || cipherKey !== key) {
      cipher = createSecretCipher(key);
      cipherKey = key;
    }
    return cipher;
  };
  const entry = (record: SecretRecord): SecretEntry => ({
    name: record.name,
    scope: record.scope,
    updatedAt: record.updatedAt,
  });
  const decrypt = async (record: SecretRecord): Promise<string> =>
    (await getCipher()).decrypt(record, `${record.scope}#${record.name}`);

  return {
    async add(options) {
      const { ciphertext, nonce } = (await getCipher()).encrypt(
        options.value,
        `${options.scope}#${options.name}`,
      );
      const record: SecretRecord = {
        name: options.name,
        scope: options.scope,
        ciphertext,
        nonce,
        updatedAt: new Date(components.now()).toISOString(),
      };
      graph.putSecret(record);
      await graph.flush();
      return entry(record);
    },
    list(filter = {}) {
      return graph.listSecrets(filter.scope === undefined ? {} : { scope: filter.scope }).map(entry);
    },
    async remove(options) {
      const record = graph.getSecret(options.scope, options.name);
      if (record === undefined) {
        throw new MonkError(
          'SECRET_NOT_FOUND',
          `there is no secret "${options.name}" ${options.scope === globalScope ? 'in the global scope' : `for ${options.scope}`}`,
          { details: { secret: options.name, scope: options.scope } },
        );
      }
      graph.deleteSecret(options.scope, options.name);
      await graph.flush();
      return entry(record);
    },
    async read(options) {
      const record =
        graph.getSecret(options.runnable, options.name) ?? graph.getSecret(globalScope, options.name);
      if (record === undefined) {
        throw new MonkError(
          'SECRET_NOT_FOUND',
          `secret "${options.name}" (read by ${options.runnable}) is not set, neither for ${options.runnable} nor globally; add it with monk secrets add ${options.name} VALUE`,
          { details: { secret: options.name, runnable: options.runnable } },
        );
      }
      return decrypt(record);
    },
    async seal(value) {
      return (await getCipher()).seal(value);
    },
    async unsealSpec(spec) {
      const current = await getCipher();
      const unseal = (value: string): string => current.unseal(value);
      return {
        ...spec,
        environment: Object.fromEntries(
          Object.entries(spec.environment).map(([name, value]) => [name, unseal(value)]),
        ),
        ...(spec.entrypoint === undefined ? {} : { entrypoint: spec.entrypoint.map(unseal) }),
        ...(spec.command === undefined ? {} : { command: spec.command.map(unseal) }),
        files: spec.files.map((file) => ({ ...file, contents: unseal(file.contents) })),
      };
    },
    async unsealFiles(files) {
      const current = await getCipher();
      return files.map((file) => ({ ...file, contents: current.unseal(file.contents) }));
    },
    async unsealWords(words) {
      if (!words.some((word) => word.includes(sealedPrefix))) return [...words];
      const current = await getCipher();
      return words.map((word) => current.unseal(word));
    },
    async digest(purpose, data) {
      return (await getCipher()).digest(purpose, data);
    },
  };
}
