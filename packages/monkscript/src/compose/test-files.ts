import { access, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ComposeFileSource } from './import-types.ts';

/** The Compose conformance corpus, read in place (never copied or edited). */
export const corpusDir = fileURLToPath(
  new URL('../../../../../shared/conformance/compose/', import.meta.url),
);

let schemaPromise: Promise<object> | undefined;

/** The Compose Specification JSON schema shipped with the corpus. */
export function loadSchema(): Promise<object> {
  schemaPromise ??= readFile(`${corpusDir}compose-spec.json`, 'utf8').then(
    (text) => JSON.parse(text) as object,
  );
  return schemaPromise;
}

/**
 * A file source over the real filesystem with extra in-memory files laid over it (the corpus lacks the
 * `.env`, secret and config files its Compose files name). `read` lists every path read.
 */
export function overlayFiles(
  virtual: Readonly<Record<string, string>> = {},
): ComposeFileSource & { read: string[] } {
  const read: string[] = [];
  return {
    read,
    async readFile(path) {
      read.push(path);
      const text = virtual[path];
      return text ?? (await readFile(path, 'utf8'));
    },
    async exists(path) {
      if (virtual[path] !== undefined) return true;
      return access(path).then(
        () => true,
        () => false,
      );
    },
  };
}

/** A file source with only in-memory files. */
export function memoryFiles(virtual: Readonly<Record<string, string>> = {}): ComposeFileSource {
  return {
    readFile(path) {
      const text = virtual[path];
      return text === undefined ? Promise.reject(new Error(`ENOENT: ${path}`)) : Promise.resolve(text);
    },
    exists(path) {
      return Promise.resolve(virtual[path] !== undefined);
    },
  };
}

/** The shape of an imported runnable, for reading test results. */
export interface RunnableDoc {
  readonly defines: string;
  readonly containers: Record<string, ContainerDoc>;
  readonly services?: Record<string, { container: string; port: number; protocol: string }>;
  readonly connections?: Record<string, { runnable: string; service?: string }>;
  readonly depends?: { 'wait-for': { runnables: string[] } };
  readonly checks?: {
    readiness: { code: string; period: number; timeout: number; attempts: number; initialDelay: number };
  };
  readonly scale?: number;
  readonly resources?: Record<string, Record<string, number>>;
  readonly rollout?: Record<string, unknown>;
  readonly files?: Record<string, { container: string; path: string; contents: string; mode: number }>;
  readonly 'permitted-secrets'?: Record<string, boolean>;
}

export interface ContainerDoc {
  readonly image: string;
  readonly 'image-tag'?: string;
  readonly entrypoint?: string[];
  readonly cmd?: string[];
  readonly environment?: string[];
  readonly ports?: string[];
  readonly paths?: string[];
  readonly volumes?: string[];
  readonly restart?: string;
  readonly labels?: Record<string, string>;
  readonly aliases?: string[];
  readonly init?: boolean;
  readonly privileged?: boolean;
  readonly 'cap-add'?: string[];
  readonly 'container-name'?: string;
  readonly 'working-dir'?: string;
  readonly user?: string;
}

/** The one document of an import, as a record. */
export function documentOf(result: { documents: unknown[] }): Record<string, unknown> {
  return result.documents[0] as Record<string, unknown>;
}

/** An imported runnable by name; throws when it is missing. */
export function runnableOf(result: { documents: unknown[] }, name: string): RunnableDoc {
  const value = documentOf(result)[name];
  if (value === undefined) throw new Error(`no runnable ${name}`);
  return value as RunnableDoc;
}

/** The (only) container of an imported runnable. */
export function containerOf(result: { documents: unknown[] }, name: string): ContainerDoc {
  const container = runnableOf(result, name).containers[name];
  if (container === undefined) throw new Error(`no container ${name}`);
  return container;
}

/** Runnable names of an import, in document order, without the namespace and group. */
export function runnableNames(result: { documents: unknown[] }): string[] {
  return Object.entries(documentOf(result))
    .filter(([, value]) => (value as { defines?: string } | null)?.defines === 'runnable')
    .map(([key]) => key);
}
