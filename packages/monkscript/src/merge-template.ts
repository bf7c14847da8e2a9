import { MonkError } from '@monk/model';
import type { JsonObject, JsonValue, SourceLocation } from '@monk/model';
import { findSection, isObject } from './sections.ts';
import { resolveReference } from './template-path.ts';
import { locationOf } from './template-record.ts';
import type { TemplateRecord } from './template-record.ts';
import type { TemplateSource } from './template-source.ts';

/**
 * Deep merge used by `inherits`: maps merge key by key (recursively), everything else — lists, scalars,
 * null — in `over` replaces what `base` has. A child therefore overrides one variable's `value` and keeps
 * its `env`, but a child's `paths:` list replaces the parent's list whole.
 */
export function deepMerge(base: JsonValue | undefined, over: JsonValue): JsonValue {
  if (!isObject(base) || !isObject(over)) return over;
  const result: Record<string, JsonValue> = { ...base };
  for (const [key, value] of Object.entries(over)) result[key] = deepMerge(base[key], value);
  return result;
}

/** A template with its inheritance applied. `chain` lists the records it was built from, child first. */
export interface MergedTemplate {
  readonly record: TemplateRecord;
  readonly definition: JsonObject;
  readonly chain: readonly TemplateRecord[];
}

/**
 * The source location of a key path of a merged template: the deepest part of the path that some record
 * of the chain wrote, the child first (a value inherited from a parent points into the parent's file).
 */
export function locate(merged: MergedTemplate, keyPath: string): SourceLocation {
  let probe = keyPath;
  for (;;) {
    for (const record of merged.chain) {
      const found = record.locations[probe];
      if (found !== undefined) {
        return {
          ...locationOf(record, probe),
          path: keyPath === '' ? merged.record.path : `${merged.record.path}/${keyPath}`,
        };
      }
    }
    if (probe === '') return locationOf(merged.record, keyPath);
    const cut = probe.lastIndexOf('/');
    probe = cut < 0 ? '' : probe.slice(0, cut);
  }
}

/**
 * Variables may be written short (`name: value`); the long form (`name: {value: …}`) makes a child's
 * short override merge with its parent's `type` and `env` instead of replacing them.
 */
function normalizeVariables(definition: JsonObject): JsonObject {
  const section = findSection(definition, 'variables');
  if (section === undefined) return definition;
  const variables: Record<string, JsonValue> = {};
  for (const [name, value] of Object.entries(section.value)) {
    variables[name] = name === 'defines' || isObject(value) ? value : { value };
  }
  return { ...definition, [section.key]: variables };
}

function without(definition: JsonObject, key: string): JsonObject {
  const result: Record<string, JsonValue> = { ...definition };
  delete result[key];
  return result;
}

interface MergeContext {
  readonly templates: TemplateSource;
  readonly cache: Map<string, MergedTemplate>;
  readonly stack: string[];
}

function cycleError(context: MergeContext, path: string, record: TemplateRecord | undefined): MonkError {
  const cycle = [...context.stack.slice(context.stack.indexOf(path)), path];
  return new MonkError('TEMPLATE_CYCLE', `inheritance cycle: ${cycle.join(' → ')}`, {
    ...(record === undefined ? {} : { location: locationOf(record, 'inherits') }),
    details: { cycle },
  });
}

function mergeRecord(context: MergeContext, path: string): MergedTemplate {
  const cached = context.cache.get(path);
  if (cached !== undefined) return cached;
  const record = context.templates.get(path);
  if (record === undefined) {
    throw new MonkError('TEMPLATE_NOT_FOUND', `template ${path} is not loaded`, {
      details: { missing: [path] },
    });
  }
  if (context.stack.includes(path)) throw cycleError(context, path, record);
  context.stack.push(path);
  try {
    let definition = normalizeVariables(record.definition);
    let chain: TemplateRecord[] = [record];
    const inherits = definition['inherits'];
    if (typeof inherits === 'string') {
      const parentPath = resolveReference(inherits, record.namespace);
      if (parentPath === undefined) {
        throw new MonkError('TEMPLATE_INVALID', `${path}: inherits "${inherits}" is not a template path`, {
          location: locationOf(record, 'inherits'),
        });
      }
      const parent = mergeRecord(context, parentPath);
      definition = deepMerge(parent.definition, without(definition, 'inherits')) as JsonObject;
      chain = [record, ...parent.chain];
    }
    definition = applyNestedInherits(context, { value: definition, record, keyPath: '' }) as JsonObject;
    const merged: MergedTemplate = { record, definition, chain };
    context.cache.set(path, merged);
    return merged;
  } finally {
    context.stack.pop();
  }
}

/** `inherits` below the top level points at a key path of another template: `ns/tmpl/containers/app`. */
function applyNestedInherits(
  context: MergeContext,
  at: { value: JsonValue; record: TemplateRecord; keyPath: string },
): JsonValue {
  const { value, record, keyPath } = at;
  if (!isObject(value)) return value;
  let current: JsonObject = value;
  const inherits = current['inherits'];
  if (keyPath !== '' && typeof inherits === 'string') {
    const target = resolveReference(inherits, record.namespace);
    const parts = target?.split('/') ?? [];
    let base: JsonValue | undefined;
    for (let length = parts.length; length >= 2 && base === undefined; length -= 1) {
      const templatePath = parts.slice(0, length).join('/');
      if (context.templates.get(templatePath) === undefined) continue;
      let node: JsonValue | undefined = mergeRecord(context, templatePath).definition;
      for (const key of parts.slice(length)) node = isObject(node) ? node[key] : undefined;
      base = node;
    }
    if (!isObject(base)) {
      throw new MonkError(
        'TEMPLATE_NOT_FOUND',
        `${record.path}/${keyPath}: inherits "${inherits}", which is not a loaded map`,
        {
          location: locationOf(record, `${keyPath}/inherits`),
          details: { missing: [target ?? inherits] },
        },
      );
    }
    current = deepMerge(base, without(current, 'inherits')) as JsonObject;
  }
  const result: Record<string, JsonValue> = {};
  for (const [key, item] of Object.entries(current)) {
    result[key] = applyNestedInherits(context, {
      value: item,
      record,
      keyPath: keyPath === '' ? key : `${keyPath}/${key}`,
    });
  }
  return result;
}

/**
 * Applies `inherits` (recursively, across namespaces and files) and returns the merged definition.
 *
 * @throws MonkError `TEMPLATE_NOT_FOUND` (a template or parent is not loaded), `TEMPLATE_CYCLE` naming the
 *   cycle (`a/x → a/y → a/x`).
 */
export function mergeTemplate(options: {
  path: string;
  templates: TemplateSource;
  cache?: Map<string, MergedTemplate>;
}): MergedTemplate {
  return mergeRecord(
    { templates: options.templates, cache: options.cache ?? new Map<string, MergedTemplate>(), stack: [] },
    options.path,
  );
}
