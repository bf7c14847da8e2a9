import { readFile, readdir, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { MonkError } from '@monk/model';

/**
 * Where templates are read from. The loader never touches `node:fs` itself: monkd and the CLI pass
 * {@link createNodeFileSource}, tests pass {@link createMemoryFileSource}. Paths use `/`.
 */
export interface FileSource {
  /** Reads a UTF-8 file; rejects when it does not exist (any error: the loader reports the path). */
  readFile(path: string): Promise<string>;
  /** The size of a file in bytes, without reading it; rejects when it does not exist. */
  fileSize(path: string): Promise<number>;
  /** Names (not paths) of the entries of a folder. */
  listDir(path: string): Promise<string[]>;
  /** True for a folder, false for a file; rejects when nothing is there. */
  isDirectory(path: string): Promise<boolean>;
}

/**
 * The real file system (`node:fs/promises`), the only I/O of this package.
 *
 * @example
 * await loadTemplates({ entries: ['./kits/redis/MANIFEST'], files: createNodeFileSource() });
 */
export function createNodeFileSource(): FileSource {
  return {
    readFile: (path) => readFile(path, 'utf8'),
    fileSize: async (path) => (await stat(path)).size,
    listDir: (path) => readdir(path),
    isDirectory: async (path) => (await stat(path)).isDirectory(),
  };
}

/**
 * An in-memory file system for tests and for callers that hold files already (an upload). Keys are
 * paths; folders exist implicitly.
 *
 * @example
 * const files = createMemoryFileSource({ '/kit/MANIFEST': 'LOAD a.yaml', '/kit/a.yaml': 'namespace: a' });
 */
export function createMemoryFileSource(entries: Readonly<Record<string, string>>): FileSource {
  const files = new Map<string, string>();
  for (const [path, text] of Object.entries(entries)) files.set(posix.normalize(path), text);
  const folderOf = (path: string): string => {
    const normalized = posix.normalize(path);
    return normalized.endsWith('/') ? normalized : `${normalized}/`;
  };
  const notFound = (path: string): MonkError =>
    new MonkError('TEMPLATE_NOT_FOUND', `no such file or folder: ${path}`, { details: { path } });
  return {
    readFile: (path) => {
      const text = files.get(posix.normalize(path));
      return text === undefined ? Promise.reject(notFound(path)) : Promise.resolve(text);
    },
    fileSize: (path) => {
      const text = files.get(posix.normalize(path));
      return text === undefined
        ? Promise.reject(notFound(path))
        : Promise.resolve(Buffer.byteLength(text, 'utf8'));
    },
    listDir: (path) => {
      const prefix = folderOf(path);
      const names = new Set<string>();
      for (const key of files.keys()) {
        if (key.startsWith(prefix)) names.add(key.slice(prefix.length).split('/')[0] ?? '');
      }
      return names.size === 0 ? Promise.reject(notFound(path)) : Promise.resolve([...names].sort());
    },
    isDirectory: (path) => {
      if (files.has(posix.normalize(path))) return Promise.resolve(false);
      const prefix = folderOf(path);
      for (const key of files.keys()) if (key.startsWith(prefix)) return Promise.resolve(true);
      return Promise.reject(notFound(path));
    },
  };
}
