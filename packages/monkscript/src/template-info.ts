import type { JsonObject, JsonValue } from '@monk/model';
import { findSection, isObject, sectionEntries } from './sections.ts';

/** A variable as `monk info PATH` shows it. */
export interface VariableInfo {
  readonly name: string;
  readonly type?: string;
  readonly description?: string;
  /** The declared value or default: literal text, or the Arrow expression that computes it. */
  readonly value?: JsonValue;
  /** The environment variable it is exported as, when it has one. */
  readonly env?: string;
}

/** A service (a port a runnable offers) as `monk info PATH` shows it. */
export interface ServiceInfo {
  readonly name: string;
  readonly container?: string;
  readonly port?: JsonValue;
  readonly protocol?: string;
  readonly description?: string;
}

/** An action and its arguments as `monk info PATH` and `monk actions PATH` show them. */
export interface ActionInfo {
  readonly name: string;
  readonly description?: string;
  readonly arguments: ReadonlyArray<{
    readonly name: string;
    readonly type?: string;
    readonly description?: string;
    readonly default?: JsonValue;
    readonly required: boolean;
  }>;
}

/** What a template says about itself: `monk info PATH`. */
export interface TemplateInfo {
  readonly path: string;
  /** Its `defines` (`runnable`, `process-group`, `entity`…), when it has one. */
  readonly defines?: string;
  /** The `metadata` section as written (name, description, version, tags, source…). */
  readonly metadata: JsonObject;
  readonly variables: readonly VariableInfo[];
  readonly services: readonly ServiceInfo[];
  readonly actions: readonly ActionInfo[];
  /** Runnables a group runs (`runnable-list`), in order. */
  readonly members: readonly string[];
}

/**
 * Summarises a template as `monk dump PATH` returns it (inheritance merged) for `monk info PATH`: its
 * metadata, variables, services and actions. Pure and total: sections it does not recognise are left out.
 *
 * @example
 * templateInfo('shop/db', { defines: 'runnable', actions: { backup: { code: '…' } } }).actions; // [{ name: 'backup', arguments: [] }]
 */
export function templateInfo(path: string, definition: JsonObject): TemplateInfo {
  const defines = definition['defines'];
  const metadata = definition['metadata'];
  const members = definition['runnable-list'];
  return {
    path,
    ...(typeof defines === 'string' ? { defines } : {}),
    metadata: isObject(metadata) ? metadata : {},
    variables: variablesOf(definition),
    services: servicesOf(definition),
    actions: templateActions(definition),
    members: Array.isArray(members) ? members.filter((m): m is string => typeof m === 'string') : [],
  };
}

/** The actions of a merged template with their arguments, in the order they are written. */
export function templateActions(definition: JsonObject): ActionInfo[] {
  return sectionEntries(findSection(definition, 'actions')?.value).map(([name, raw]) => {
    const spec = isObject(raw) ? raw : {};
    const declared = spec['arguments'];
    return {
      name,
      ...text('description', spec['description']),
      arguments: sectionEntries(isObject(declared) ? declared : undefined).map(([argument, rawArg]) => {
        const arg = isObject(rawArg) ? rawArg : {};
        return {
          name: argument,
          ...text('type', arg['type']),
          ...text('description', arg['description']),
          ...(arg['default'] === undefined ? {} : { default: arg['default'] }),
          required: arg['required'] === true,
        };
      }),
    };
  });
}

function variablesOf(definition: JsonObject): VariableInfo[] {
  return sectionEntries(findSection(definition, 'variables')?.value).map(([name, raw]) => {
    if (!isObject(raw)) return { name, value: raw };
    return {
      name,
      ...text('type', raw['type']),
      ...text('description', raw['description']),
      ...(raw['value'] === undefined ? {} : { value: raw['value'] }),
      ...text('env', raw['env']),
    };
  });
}

function servicesOf(definition: JsonObject): ServiceInfo[] {
  return sectionEntries(findSection(definition, 'services')?.value).map(([name, raw]) => {
    const spec = isObject(raw) ? raw : {};
    return {
      name,
      ...text('container', spec['container']),
      ...(spec['port'] === undefined ? {} : { port: spec['port'] }),
      ...text('protocol', spec['protocol']),
      ...text('description', spec['description']),
    };
  });
}

function text<K extends string>(key: K, value: JsonValue | undefined): { [P in K]?: string } {
  return (typeof value === 'string' ? { [key]: value } : {}) as { [P in K]?: string };
}
