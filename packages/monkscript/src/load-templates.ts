import { posix } from 'node:path';
import { MonkError } from '@monk/model';
import type { JsonValue } from '@monk/model';
import type { SourceDocument } from './build-records.ts';
import type { FileSource } from './file-source.ts';
import { importCompose } from './compose/import-compose.ts';
import type { ComposeSecret } from './compose/import-compose.ts';
import { finishLoad, toJsonValue } from './load-documents.ts';
import type { LoadResult } from './load-documents.ts';
import { parseManifest } from './parse-manifest.ts';
import type { Manifest } from './parse-manifest.ts';
import { parseYamlDocuments } from './parse-yaml.ts';
import { isObject } from './sections.ts';
import { formatBytes, maxTemplateFileBytes } from './template-record.ts';
import type { LoadWarning } from './template-record.ts';
import type { TemplateSource } from './template-source.ts';

/** The result of {@link loadTemplates}: records, warnings, and the MANIFESTs read on the way. */
export interface LoadTemplatesResult extends LoadResult {
  readonly manifests: Manifest[];
  /** Secret values a Compose file supplied (secret `file:`/`environment:` sources), to store before running. */
  readonly secrets: ComposeSecret[];
}

/** Options of {@link loadTemplates}. */
export interface LoadTemplatesOptions {
  /** Files, folders, MANIFESTs or Compose files. */
  readonly entries: readonly string[];
  readonly files: FileSource;
  /** Templates loaded before: references to them are not reported as unresolved. */
  readonly known?: TemplateSource;
  /**
   * Paths of templates the cluster already holds (what `templates.list` returns): references to them are not
   * reported as unresolved either. The CLI passes these so `monk load` after loading a kit stays quiet.
   */
  readonly knownPaths?: Iterable<string>;
  /** Compose interpolation variables (`${VAR}`); the package never reads `process.env`. */
  readonly environment?: Readonly<Record<string, string>>;
}

const yamlFile = /\.ya?ml$/i;
const composeFile = /^(docker-)?compose(\.[\w-]+)?\.ya?ml$/i;
const embedPrefix = /^<<<\s*(\S.*?)\s*$/;

function isManifestName(name: string): boolean {
  return name === 'MANIFEST' || name.endsWith('.MANIFEST');
}

interface Pending {
  readonly file: string;
  readonly documents: SourceDocument[];
}

interface MissingEmbed {
  readonly templateFile: string;
  readonly key: string;
  readonly embeddedFile: string;
  readonly written: string;
  readonly line: number;
  readonly column: number;
  readonly cause: unknown;
}

function missingEmbedError(missing: readonly MissingEmbed[]): MonkError | undefined {
  const [first] = missing;
  if (first === undefined) return undefined;
  const more =
    missing.length > 1
      ? ` (and ${missing.length - 1} more missing embed${missing.length > 2 ? 's' : ''}: ${missing
          .slice(1)
          .map((item) => item.embeddedFile)
          .join(', ')})`
      : '';
  return new MonkError(
    'EMBED_NOT_FOUND',
    `${first.templateFile}:${first.line}:${first.column}: ${first.key} embeds "${first.written}" (${first.embeddedFile}), which does not exist${more}`,
    {
      cause: first.cause,
      location: { file: first.templateFile, line: first.line, column: first.column, path: first.key },
      details: {
        templateFile: first.templateFile,
        key: first.key,
        embeddedFile: first.embeddedFile,
        missing: missing.map(({ templateFile, key, embeddedFile }) => ({ templateFile, key, embeddedFile })),
      },
    },
  );
}

interface LoadContext {
  readonly missingEmbeds: MissingEmbed[];
  readonly files: FileSource;
  readonly environment: Readonly<Record<string, string>> | undefined;
  readonly warnings: LoadWarning[];
  readonly secrets: ComposeSecret[];
  readonly pending: Pending[];
  readonly manifests: Manifest[];
  readonly visited: Set<string>;
}

/**
 * Reads a file the loader needs, after checking its size: a file over {@link maxTemplateFileBytes} is
 * refused before a byte of it is read or parsed. A file that cannot be sized is read anyway, so that the
 * read reports why it is missing.
 */
async function readBounded(files: FileSource, path: string): Promise<string> {
  const size = await files.fileSize(path).catch(() => undefined);
  if (size !== undefined && size > maxTemplateFileBytes) {
    throw new MonkError(
      'TEMPLATE_TOO_LARGE',
      `${path} is ${formatBytes(size)}; monk reads template files of at most ${formatBytes(maxTemplateFileBytes)} (split it into several files, or keep large data out of templates)`,
      { details: { path, bytes: size, limit: maxTemplateFileBytes } },
    );
  }
  return files.readFile(path);
}

async function readText(
  context: LoadContext,
  options: { path: string; code: 'TEMPLATE_NOT_FOUND' | 'MANIFEST_INVALID'; why: string },
): Promise<string> {
  try {
    return await readBounded(context.files, options.path);
  } catch (error) {
    if (error instanceof MonkError && error.code === 'TEMPLATE_TOO_LARGE') throw error;
    throw new MonkError(options.code, `cannot read ${options.path}: ${options.why}`, {
      cause: error,
      details: { path: options.path },
    });
  }
}

async function isDirectory(context: LoadContext, path: string): Promise<boolean | undefined> {
  try {
    return await context.files.isDirectory(path);
  } catch {
    return undefined;
  }
}

async function listDir(context: LoadContext, path: string): Promise<string[]> {
  try {
    return (await context.files.listDir(path)).slice().sort();
  } catch (error) {
    throw new MonkError('TEMPLATE_NOT_FOUND', `cannot list ${path}`, { cause: error, details: { path } });
  }
}

async function loadYamlFile(context: LoadContext, path: string): Promise<void> {
  if (context.visited.has(path)) return;
  context.visited.add(path);
  const text = await readText(context, {
    path,
    code: 'TEMPLATE_NOT_FOUND',
    why: 'the template file does not exist',
  });
  if (composeFile.test(posix.basename(path))) {
    await loadCompose(context, { path, text });
    return;
  }
  const parsed = parseYamlDocuments({ file: path, text });
  if (looksLikeCompose(parsed)) {
    await loadCompose(context, { path, text });
    return;
  }
  const documents: SourceDocument[] = [];
  for (const document of parsed) {
    const value = await expandEmbeds(context, {
      templateFile: path,
      value: document.value,
      keyPath: '',
      locations: document.locations,
    });
    documents.push({ value, locations: document.locations, line: document.line });
  }
  context.pending.push({ file: path, documents });
}

async function loadCompose(context: LoadContext, options: { path: string; text: string }): Promise<void> {
  const { files } = context;
  const imported = await importCompose({
    file: options.path,
    contents: options.text,
    files: {
      readFile: (path) => readBounded(files, path),
      exists: async (path) => (await isDirectory(context, path)) !== undefined,
    },
    ...(context.environment === undefined ? {} : { environment: context.environment }),
  });
  for (const warning of imported.warnings) {
    const template = `${imported.namespace}/${warning.service ?? ''}`;
    context.warnings.push({
      code: 'COMPOSE_IMPORT',
      message: `${options.path}: ${warning.service === undefined ? '' : `service ${warning.service}: `}${warning.key}: ${warning.message}`,
      template,
    });
  }
  context.secrets.push(...imported.secrets);
  context.pending.push({
    file: options.path,
    documents: imported.documents.map((document, index) => ({
      value: toJsonValue(document, `${options.path}#${index + 1}`),
    })),
  });
}

function looksLikeCompose(documents: readonly { value: JsonValue }[]): boolean {
  return documents.some(
    (document) =>
      isObject(document.value) &&
      document.value['namespace'] === undefined &&
      isObject(document.value['services']),
  );
}

interface EmbedOptions {
  readonly templateFile: string;
  readonly value: JsonValue;
  readonly keyPath: string;
  readonly locations: ReadonlyMap<string, readonly [number, number]>;
}

async function expandEmbeds(context: LoadContext, options: EmbedOptions): Promise<JsonValue> {
  const { value, keyPath } = options;
  if (typeof value === 'string') {
    const match = embedPrefix.exec(value);
    if (match === null) return value;
    const embedded = posix.join(posix.dirname(options.templateFile), match[1] ?? '');
    try {
      return await readBounded(context.files, embedded);
    } catch (error) {
      if (error instanceof MonkError && error.code === 'TEMPLATE_TOO_LARGE') throw error;
      // Keep going: the load fails at the end, naming every missing embed rather than the first.
      context.missingEmbeds.push({
        templateFile: options.templateFile,
        key: keyPath,
        embeddedFile: embedded,
        written: match[1] ?? '',
        line: options.locations.get(keyPath)?.[0] ?? 0,
        column: options.locations.get(keyPath)?.[1] ?? 0,
        cause: error,
      });
      return value;
    }
  }
  if (Array.isArray(value)) {
    const items: JsonValue[] = [];
    for (const [index, item] of (value as readonly JsonValue[]).entries()) {
      items.push(await expandEmbeds(context, { ...options, value: item, keyPath: `${keyPath}/${index}` }));
    }
    return items;
  }
  if (isObject(value)) {
    const result: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value)) {
      result[key] = await expandEmbeds(context, {
        ...options,
        value: item,
        keyPath: keyPath === '' ? key : `${keyPath}/${key}`,
      });
    }
    return result;
  }
  return value;
}

async function loadManifest(context: LoadContext, path: string): Promise<void> {
  if (context.visited.has(path)) return;
  context.visited.add(path);
  const text = await readText(context, {
    path,
    code: 'MANIFEST_INVALID',
    why: 'the MANIFEST does not exist',
  });
  const manifest = parseManifest({ file: path, text });
  context.manifests.push(manifest);
  const folder = posix.dirname(path);
  for (const file of manifest.load) {
    const target = posix.join(folder, file);
    if ((await isDirectory(context, target)) !== false) {
      throw new MonkError('MANIFEST_INVALID', `${path}: LOAD ${file}: no such file (${target})`, {
        details: { manifest: path, file: target },
      });
    }
    await loadYamlFile(context, target);
  }
  for (const dir of manifest.dirs) {
    const target = posix.join(folder, dir);
    if ((await isDirectory(context, target)) !== true) {
      throw new MonkError('MANIFEST_INVALID', `${path}: DIRS ${dir}: no such folder (${target})`, {
        details: { manifest: path, dir: target },
      });
    }
    await loadEntry(context, target);
  }
}

async function loadFolder(context: LoadContext, path: string): Promise<void> {
  const names = await listDir(context, path);
  if (names.includes('MANIFEST')) {
    await loadManifest(context, posix.join(path, 'MANIFEST'));
    return;
  }
  const compose = names.find((name) => composeFile.test(name));
  if (compose !== undefined) {
    await loadYamlFile(context, posix.join(path, compose));
    return;
  }
  const yamls = names.filter((name) => yamlFile.test(name));
  for (const name of yamls) {
    const target = posix.join(path, name);
    if ((await isDirectory(context, target)) === false) await loadYamlFile(context, target);
  }
}

async function loadEntry(context: LoadContext, entry: string): Promise<void> {
  const path = posix.normalize(entry);
  const directory = await isDirectory(context, path);
  if (directory === undefined) {
    throw new MonkError('TEMPLATE_NOT_FOUND', `nothing to load at ${path}`, { details: { path } });
  }
  if (directory) await loadFolder(context, path);
  else if (isManifestName(posix.basename(path))) await loadManifest(context, path);
  else await loadYamlFile(context, path);
}

/**
 * Loads MonkScript from files, folders, MANIFESTs or Docker Compose files, all or nothing: one broken file rejects the whole
 * load and nothing is returned. A folder loads its MANIFEST if it has one, else its `*.yaml`/`*.yml`
 * files (sorted). A MANIFEST loads its `LOAD` files and `DIRS` folders. A Compose file (`compose.yaml`,
 * `docker-compose.yml`, a folder holding one, or YAML with top-level `services:` and no `namespace`) is
 * imported into MonkScript first. `<<<` embeds are read relative to
 * the template file. References to templates neither loaded here nor in `known`/`knownPaths` (hub templates) are
 * warnings, not errors; resolving a template that needs them fails.
 *
 * @throws MonkError `TEMPLATE_PARSE_ERROR`, `TEMPLATE_INVALID`, `EMBED_NOT_FOUND`, `MANIFEST_INVALID`, `COMPOSE_INVALID`,
 *   `TEMPLATE_NOT_FOUND` (an entry or LOADed file does not exist), each naming file, line and key.
 * @example
 * const { templates, warnings } = await loadTemplates({ entries: ['kits/redis/MANIFEST'], files: createNodeFileSource() });
 */
export async function loadTemplates(options: LoadTemplatesOptions): Promise<LoadTemplatesResult> {
  const context: LoadContext = {
    files: options.files,
    environment: options.environment,
    warnings: [],
    secrets: [],
    pending: [],
    manifests: [],
    visited: new Set(),
    missingEmbeds: [],
  };
  for (const entry of options.entries) await loadEntry(context, entry);
  const embedError = missingEmbedError(context.missingEmbeds);
  if (embedError !== undefined) throw embedError;
  const result = finishLoad({
    batches: context.pending,
    warnings: context.warnings,
    ...(options.known === undefined ? {} : { known: options.known }),
    ...(options.knownPaths === undefined ? {} : { knownPaths: options.knownPaths }),
  });
  return { ...result, manifests: context.manifests, secrets: context.secrets };
}
