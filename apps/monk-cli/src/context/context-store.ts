import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { MonkError } from '@monk/model';
import { currentContextFile, readCurrentContextName } from './monk-home.ts';

/** One member of a cluster that an operator context can dial. */
export interface ContextPeer {
  readonly id: string;
  readonly name?: string;
  /** Multiaddrs, each ending in `/p2p/<id>`. */
  readonly addresses: readonly string[];
}

/**
 * An operator context: what a machine without a local monkd needs to drive a cluster. Stored as
 * `$MONK_HOME/contexts/<name>/context.json` (mode 0600: it holds the network key) next to the operator's
 * identity (`identity.key`).
 */
export interface ClusterContext {
  readonly name: string;
  readonly clusterId: string;
  readonly clusterName: string;
  /** The cluster's network key, printable (base64url). Secret. */
  readonly networkKey: string;
  /** Members to try, in order. */
  readonly peers: readonly ContextPeer[];
  readonly createdAt: string;
}

/**
 * The operator contexts of this machine under `$MONK_HOME`, and which one is current
 * (`$MONK_HOME/current-context` holds its name; no file means the local monkd).
 *
 * Throws `CONTEXT_NOT_FOUND` for a name that has no context, `INVALID_REQUEST` for a name that cannot be a
 * folder, `STORAGE_FAILED` when a file cannot be read or written or is malformed.
 *
 * @example
 * const store = createContextStore({ home: monkHome(process.env) });
 * await store.save(context);
 * await store.select(context.name);
 * console.log(await store.current()); // 'prod'
 */
export interface ContextStore {
  readonly home: string;
  /** The folder of a context (it may not exist). */
  directory(name: string): string;
  /** Where the operator identity of a context lives. */
  identityFile(name: string): string;
  /** Every context, sorted by name. */
  list(): Promise<ClusterContext[]>;
  /** The context, or undefined when there is none by that name. */
  find(name: string): Promise<ClusterContext | undefined>;
  /** The context; throws `CONTEXT_NOT_FOUND` when there is none by that name. */
  get(name: string): Promise<ClusterContext>;
  /** Writes a context atomically with mode 0600 (its folder 0700), replacing one of the same name. */
  save(context: ClusterContext): Promise<void>;
  /** The name of the current context, or undefined (the local monkd). */
  current(): Promise<string | undefined>;
  /** Makes a context current (it must exist); undefined goes back to the local monkd. */
  select(name: string | undefined): Promise<void>;
  /** Deletes a context's folder (identity included); clears current-context if it named it. False if absent. */
  forget(name: string): Promise<boolean>;
}

const contextSchema = z.object({
  name: z.string().min(1),
  clusterId: z.string().min(1),
  clusterName: z.string(),
  networkKey: z.string().min(1),
  peers: z.array(
    z.object({ id: z.string().min(1), name: z.string().exactOptional(), addresses: z.array(z.string()) }),
  ),
  createdAt: z.string(),
});

const contextFile = 'context.json';

/** Checks that a context name can be a folder name; throws `INVALID_REQUEST` otherwise. */
export function assertContextName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name)) {
    throw new MonkError(
      'INVALID_REQUEST',
      `"${name}" is not a valid context name: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  return name;
}

/** A context name derived from a cluster's name (which may hold any character). */
export function contextNameFor(clusterName: string, clusterId: string): string {
  const cleaned = clusterName
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 63);
  return cleaned === '' ? assertContextName(clusterId.slice(0, 63)) : cleaned;
}

/** Creates the store of operator contexts under `home` (see {@link ContextStore}). */
export function createContextStore(options: { readonly home: string }): ContextStore {
  const { home } = options;
  const contextsDir = join(home, 'contexts');
  const directory = (name: string): string => join(contextsDir, assertContextName(name));

  async function find(name: string): Promise<ClusterContext | undefined> {
    const path = join(directory(name), contextFile);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw new MonkError('STORAGE_FAILED', `cannot read context ${path}: ${messageOf(error)}`, {
        cause: error,
      });
    }
    try {
      return contextSchema.parse(JSON.parse(text));
    } catch (error) {
      throw new MonkError(
        'STORAGE_FAILED',
        `context file ${path} is malformed (${messageOf(error)}); remove it with monk cluster exit --cluster ${name}`,
        { cause: error },
      );
    }
  }

  async function get(name: string): Promise<ClusterContext> {
    const context = await find(name);
    if (context === undefined) {
      throw new MonkError(
        'CONTEXT_NOT_FOUND',
        `there is no cluster context "${name}" in ${contextsDir}; list them with monk cluster contexts, or go back to the local monkd with monk cluster switch --local`,
      );
    }
    return context;
  }

  async function current(): Promise<string | undefined> {
    return readCurrentContextName(home);
  }

  return {
    home,
    directory,
    identityFile: (name) => join(directory(name), 'identity.key'),
    find,
    get,
    current,
    async list() {
      let names: string[];
      try {
        names = await readdir(contextsDir);
      } catch (error) {
        if (isMissing(error)) return [];
        throw new MonkError('STORAGE_FAILED', `cannot list ${contextsDir}: ${messageOf(error)}`, {
          cause: error,
        });
      }
      const contexts: ClusterContext[] = [];
      for (const name of names.sort()) {
        if (!isContextName(name)) continue;
        const context = await find(name);
        if (context !== undefined) contexts.push(context);
      }
      return contexts;
    },
    async save(context) {
      const folder = directory(context.name);
      const checked = contextSchema.parse(context);
      await guard(`cannot write context ${context.name} in ${folder}`, async () => {
        await mkdir(folder, { recursive: true, mode: 0o700 });
        await writeSecretFile(join(folder, contextFile), `${JSON.stringify(checked, null, 2)}\n`);
      });
    },
    async select(name) {
      if (name === undefined) {
        await guard(`cannot clear ${join(home, currentContextFile)}`, () =>
          rm(join(home, currentContextFile), { force: true }),
        );
        return;
      }
      await get(name);
      await guard(`cannot write ${join(home, currentContextFile)}`, async () => {
        await mkdir(home, { recursive: true, mode: 0o700 });
        await writeSecretFile(join(home, currentContextFile), `${name}\n`);
      });
    },
    async forget(name) {
      const folder = directory(name);
      // Existence of the folder, not a readable context: a malformed context must still be removable.
      const existed = await stat(folder).then(
        () => true,
        () => false,
      );
      await guard(`cannot remove context ${folder}`, () => rm(folder, { recursive: true, force: true }));
      if ((await current()) === name) {
        await guard(`cannot clear ${join(home, currentContextFile)}`, () =>
          rm(join(home, currentContextFile), { force: true }),
        );
      }
      return existed;
    },
  };
}

function isContextName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name);
}

/** Temp file (0600), fsync, rename: a reader sees the old file or the new one, never half of one. */
async function writeSecretFile(path: string, contents: string): Promise<void> {
  const temporary = `${path}.tmp-${String(process.pid)}`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(contents);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}

async function guard<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof MonkError) throw error;
    throw new MonkError('STORAGE_FAILED', `${what}: ${messageOf(error)}`, { cause: error });
  }
}

function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ENOENT';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
