import { MonkError } from '@monk/model';
import type { JsonValue } from '@monk/model';
import { buildRecords } from './build-records.ts';
import type { SourceDocument } from './build-records.ts';
import { referencesOf } from './references.ts';
import { locationOf } from './template-record.ts';
import type { LoadWarning, TemplateRecord } from './template-record.ts';
import { createTemplateSource, isKnownPath } from './template-source.ts';
import type { TemplateSource } from './template-source.ts';

/** What a load produced: the records (all of them, or an error and none) and what it noticed. */
export interface LoadResult {
  readonly templates: TemplateRecord[];
  readonly warnings: LoadWarning[];
}

/**
 * Loads documents that are already plain objects (what the Compose importer produces, or a client that
 * parsed YAML itself). No positions are known, so errors name the file and key path only. Documents
 * must be JSON values; `<<<` embeds are not expanded here.
 *
 * @throws MonkError `TEMPLATE_INVALID` for a document that is not MonkScript.
 * @example
 * loadDocuments({ file: 'compose.yaml', documents: [{ namespace: 'app', web: { defines: 'runnable' } }] });
 */
export function loadDocuments(options: {
  file: string;
  documents: readonly unknown[];
  known?: TemplateSource;
}): LoadResult {
  const documents = options.documents.map((document, index) => ({
    value: toJsonValue(document, `${options.file}#${index + 1}`),
  }));
  return finishLoad({
    batches: [{ file: options.file, documents }],
    ...(options.known === undefined ? {} : { known: options.known }),
  });
}

/** Records from files in load order, then warnings for duplicates and unresolved references. */
export function finishLoad(options: {
  batches: readonly { file: string; documents: readonly SourceDocument[] }[];
  known?: TemplateSource;
  knownPaths?: Iterable<string>;
  warnings?: readonly LoadWarning[];
}): LoadResult {
  const warnings: LoadWarning[] = [...(options.warnings ?? [])];
  const byPath = new Map<string, TemplateRecord>();
  for (const batch of options.batches) {
    for (const record of buildRecords(batch)) {
      const previous = byPath.get(record.path);
      if (previous !== undefined) {
        warnings.push({
          code: 'DUPLICATE_TEMPLATE',
          message: `${record.path} is defined in ${previous.file} and again in ${record.file}; the later one is kept`,
          template: record.path,
          location: locationOf(record, ''),
        });
        byPath.delete(record.path);
      }
      byPath.set(record.path, record);
    }
  }
  const templates = [...byPath.values()];
  const loaded = createTemplateSource(templates);
  const held = new Set(options.knownPaths ?? []);
  const isHeld = (path: string): boolean => {
    const parts = path.split('/');
    for (let length = parts.length; length >= 2; length -= 1) {
      if (held.has(parts.slice(0, length).join('/'))) return true;
    }
    return false;
  };
  const seen = new Set<string>();
  for (const record of templates) {
    for (const reference of referencesOf(record)) {
      if (isKnownPath(loaded, reference.path)) continue;
      if (options.known !== undefined && isKnownPath(options.known, reference.path)) continue;
      if (isHeld(reference.path)) continue;
      const key = `${record.path} ${reference.path}`;
      if (seen.has(key)) continue;
      seen.add(key);
      warnings.push({
        code: 'UNRESOLVED_REFERENCE',
        message: `${record.path} refers to ${reference.path} (${reference.keyPath}), which is not loaded; it must be loaded before ${record.path} can run`,
        template: record.path,
        reference: reference.path,
        location: locationOf(record, reference.keyPath),
      });
    }
  }
  return { templates, warnings };
}

/** Checks that a plain object is JSON; throws `TEMPLATE_INVALID` naming `where`. */
export function toJsonValue(value: unknown, where: string, depth = 0): JsonValue {
  if (depth > 200) throw new MonkError('TEMPLATE_INVALID', `${where}: document nested too deeply`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new MonkError('TEMPLATE_INVALID', `${where}: ${value} is not a finite number`);
    return value;
  }
  if (Array.isArray(value)) return value.map((item: unknown) => toJsonValue(item, where, depth + 1));
  if (typeof value === 'object') {
    const result: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      result[key] = toJsonValue(item, where, depth + 1);
    }
    return result;
  }
  throw new MonkError('TEMPLATE_INVALID', `${where}: ${typeof value} is not a JSON value`);
}
