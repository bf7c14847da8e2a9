import type { TemplateRecord } from './template-record.ts';

/**
 * Read access to loaded templates by path. monkd implements it over its graph; {@link createTemplateSource}
 * builds one over an array (tests, the CLI).
 */
export interface TemplateSource {
  get(path: string): TemplateRecord | undefined;
  list(): readonly TemplateRecord[];
}

/**
 * A {@link TemplateSource} over records; a later record with the same path replaces an earlier one.
 *
 * @example
 * const { templates } = await loadTemplates({ entries: ['kit/MANIFEST'], files });
 * const source = createTemplateSource(templates);
 */
export function createTemplateSource(records: Iterable<TemplateRecord>): TemplateSource {
  const byPath = new Map<string, TemplateRecord>();
  for (const record of records) byPath.set(record.path, record);
  const all = [...byPath.values()];
  return { get: (path) => byPath.get(path), list: () => all };
}

/** True when `path` names a template of `source`, or a key path inside one (`ns/name/containers/x`). */
export function isKnownPath(source: TemplateSource, path: string): boolean {
  const parts = path.split('/');
  for (let length = parts.length; length >= 2; length -= 1) {
    if (source.get(parts.slice(0, length).join('/')) !== undefined) return true;
  }
  return false;
}
