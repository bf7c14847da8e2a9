import { MonkError } from '@monk/model';
import type { JsonObject, JsonValue, SourceLocation } from '@monk/model';
import { isObject } from './sections.ts';
import { normalizeNamespace, resolveReference } from './template-path.ts';
import type { TemplateKind, TemplateRecord } from './template-record.ts';

/** A parsed document before it becomes records: its value and, when it came from YAML, key positions. */
export interface SourceDocument {
  readonly value: JsonValue;
  readonly locations?: ReadonlyMap<string, readonly [number, number]>;
  readonly line?: number;
}

const plainKinds: Readonly<Record<string, TemplateKind>> = {
  runnable: 'runnable',
  'process-group': 'process-group',
  group: 'group',
  service: 'service',
  entity: 'entity',
  module: 'module',
};

function at(options: { file: string; document: SourceDocument; keyPath: string }): SourceLocation {
  const found = options.document.locations?.get(options.keyPath);
  return {
    file: options.file,
    line: found?.[0] ?? options.document.line ?? 0,
    column: found?.[1] ?? 0,
    path: options.keyPath,
  };
}

function invalid(options: {
  file: string;
  document: SourceDocument;
  keyPath: string;
  message: string;
}): MonkError {
  const location = at(options);
  return new MonkError(
    'TEMPLATE_INVALID',
    `${location.file}:${location.line}:${location.column} (${options.keyPath}): ${options.message}`,
    { location },
  );
}

/** Determines what a block defines from its `defines` value. */
export function kindOf(defines: JsonValue | undefined): TemplateKind | undefined {
  if (defines === undefined) return 'base';
  if (typeof defines !== 'string') return undefined;
  const plain = plainKinds[defines];
  if (plain !== undefined) return plain;
  return defines.includes('/') ? 'entity-instance' : undefined;
}

/**
 * Turns documents into template records: each document needs a `namespace`; every other top-level key is
 * a block (a map). Throws `TEMPLATE_INVALID` with the location of the offending key.
 */
export function buildRecords(options: {
  file: string;
  documents: readonly SourceDocument[];
}): TemplateRecord[] {
  const { file } = options;
  const records: TemplateRecord[] = [];
  options.documents.forEach((document, index) => {
    const value = document.value;
    if (value === null) return;
    if (!isObject(value)) {
      throw invalid({
        file,
        document,
        keyPath: '',
        message: `document ${index + 1} is not a map of templates`,
      });
    }
    const rawNamespace = value['namespace'];
    if (typeof rawNamespace !== 'string') {
      throw invalid({
        file,
        document,
        keyPath: rawNamespace === undefined ? '' : 'namespace',
        message: `document ${index + 1} has no "namespace: <name>"`,
      });
    }
    let namespace: string;
    try {
      namespace = normalizeNamespace(rawNamespace);
    } catch (error) {
      throw invalid({ file, document, keyPath: 'namespace', message: (error as Error).message });
    }
    for (const [name, definition] of Object.entries(value)) {
      if (name === 'namespace') continue;
      if (resolveReference(`${namespace}/${name}`, namespace) === undefined) {
        throw invalid({ file, document, keyPath: name, message: `"${name}" is not a valid template name` });
      }
      if (!isObject(definition)) {
        throw invalid({ file, document, keyPath: name, message: `template "${name}" must be a map` });
      }
      const kind = kindOf(definition['defines']);
      if (kind === undefined) {
        throw invalid({
          file,
          document,
          keyPath: `${name}/defines`,
          message: `unknown "defines: ${JSON.stringify(definition['defines'])}"; expected runnable, process-group, group, service, entity, module or an entity type path`,
        });
      }
      const locations: Record<string, readonly [number, number]> = {};
      const prefix = `${name}/`;
      for (const [keyPath, position] of document.locations ?? []) {
        if (keyPath === name) locations[''] = position;
        else if (keyPath.startsWith(prefix)) locations[keyPath.slice(prefix.length)] = position;
      }
      const record: TemplateRecord = {
        path: `${namespace}/${name}`,
        namespace,
        name,
        kind,
        file,
        definition,
        locations,
      };
      validateRecord(record);
      records.push(record);
    }
  });
  return records;
}

function recordError(record: TemplateRecord, options: { keyPath: string; message: string }): MonkError {
  const position = record.locations[options.keyPath] ?? record.locations[''] ?? [0, 0];
  const location: SourceLocation = {
    file: record.file,
    line: position[0],
    column: position[1],
    path: `${record.path}${options.keyPath === '' ? '' : `/${options.keyPath}`}`,
  };
  return new MonkError(
    'TEMPLATE_INVALID',
    `${record.file}:${location.line}:${location.column} (${location.path}): ${options.message}`,
    { location },
  );
}

function expectString(
  record: TemplateRecord,
  options: { keyPath: string; value: JsonValue | undefined },
): void {
  if (options.value !== undefined && typeof options.value !== 'string') {
    throw recordError(record, { keyPath: options.keyPath, message: 'must be a string' });
  }
}

function expectStringList(
  record: TemplateRecord,
  options: { keyPath: string; value: JsonValue | undefined },
): void {
  const { keyPath, value } = options;
  if (value === undefined || value === null) return;
  if (!Array.isArray(value))
    throw recordError(record, { keyPath, message: 'must be a list of template paths' });
  (value as readonly JsonValue[]).forEach((item, index) => {
    if (typeof item !== 'string')
      throw recordError(record, { keyPath: `${keyPath}/${index}`, message: 'must be a template path' });
  });
}

function expectMap(
  record: TemplateRecord,
  options: { keyPath: string; value: JsonValue | undefined; ofMaps?: boolean },
): void {
  const { keyPath, value } = options;
  if (value === undefined || value === null) return;
  if (!isObject(value)) throw recordError(record, { keyPath, message: 'must be a map' });
  if (options.ofMaps !== true) return;
  for (const [key, item] of Object.entries(value)) {
    if (key === 'defines') continue;
    if (item !== null && !isObject(item))
      throw recordError(record, { keyPath: `${keyPath}/${key}`, message: 'must be a map' });
  }
}

/**
 * Checks the shape of the sections monk interprets, where present (a block may be partial and complete
 * through `inherits`). Unknown keys are kept, never refused.
 */
function validateRecord(record: TemplateRecord): void {
  const definition: JsonObject = record.definition;
  expectString(record, { keyPath: 'inherits', value: definition['inherits'] });
  expectMap(record, { keyPath: 'metadata', value: definition['metadata'] });
  expectMap(record, { keyPath: 'containers', value: definition['containers'], ofMaps: true });
  expectMap(record, { keyPath: 'variables', value: definition['variables'] });
  expectMap(record, { keyPath: 'services', value: definition['services'], ofMaps: true });
  expectMap(record, { keyPath: 'connections', value: definition['connections'], ofMaps: true });
  expectMap(record, { keyPath: 'files', value: definition['files'], ofMaps: true });
  expectMap(record, { keyPath: 'actions', value: definition['actions'], ofMaps: true });
  expectMap(record, { keyPath: 'checks', value: definition['checks'] });
  expectMap(record, { keyPath: 'depends', value: definition['depends'] });
  expectStringList(record, { keyPath: 'runnable-list', value: definition['runnable-list'] });
  expectStringList(record, { keyPath: 'members', value: definition['members'] });
  const depends = definition['depends'];
  if (isObject(depends)) {
    const waitFor = depends['wait-for'];
    expectMap(record, { keyPath: 'depends/wait-for', value: waitFor });
    if (isObject(waitFor))
      expectStringList(record, { keyPath: 'depends/wait-for/runnables', value: waitFor['runnables'] });
  }
  const connections = definition['connections'];
  if (isObject(connections)) {
    for (const [name, connection] of Object.entries(connections)) {
      if (!isObject(connection)) continue;
      expectString(record, { keyPath: `connections/${name}/runnable`, value: connection['runnable'] });
      expectString(record, { keyPath: `connections/${name}/target`, value: connection['target'] });
      expectString(record, { keyPath: `connections/${name}/service`, value: connection['service'] });
    }
  }
  if (
    (record.kind === 'process-group' || record.kind === 'group') &&
    definition['containers'] !== undefined
  ) {
    throw recordError(record, {
      keyPath: 'containers',
      message: `a ${record.kind} has members, not containers`,
    });
  }
}
