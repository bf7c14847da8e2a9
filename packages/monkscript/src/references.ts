import type { JsonValue } from '@monk/model';
import { isObject } from './sections.ts';
import { resolveReference } from './template-path.ts';
import type { TemplateRecord } from './template-record.ts';

/** A path one template names: what it inherits, instantiates, groups, connects to or waits for. */
export interface TemplateReference {
  readonly path: string;
  /** Where in the definition: `inherits`, `defines`, `runnable-list/0`, `connections/db/runnable`… */
  readonly keyPath: string;
  readonly role: 'inherits' | 'entity-type' | 'member' | 'connection' | 'wait-for';
}

function collectInherits(
  value: JsonValue,
  options: { keyPath: string; namespace: string; out: TemplateReference[] },
): void {
  if (Array.isArray(value)) {
    (value as readonly JsonValue[]).forEach((item, index) =>
      collectInherits(item, { ...options, keyPath: `${options.keyPath}/${index}` }),
    );
    return;
  }
  if (!isObject(value)) return;
  for (const [key, item] of Object.entries(value)) {
    const keyPath = options.keyPath === '' ? key : `${options.keyPath}/${key}`;
    if (key === 'inherits' && typeof item === 'string') {
      const path = resolveReference(item, options.namespace);
      if (path !== undefined) options.out.push({ path, keyPath, role: 'inherits' });
    } else {
      collectInherits(item, { ...options, keyPath });
    }
  }
}

/** Every template path a record refers to, resolved against its namespace (unparseable paths skipped). */
export function referencesOf(record: TemplateRecord): TemplateReference[] {
  const out: TemplateReference[] = [];
  const { definition, namespace } = record;
  const add = (text: JsonValue | undefined, keyPath: string, role: TemplateReference['role']): void => {
    if (typeof text !== 'string') return;
    const path = resolveReference(text, namespace);
    if (path !== undefined) out.push({ path, keyPath, role });
  };
  collectInherits(definition, { keyPath: '', namespace, out });
  if (record.kind === 'entity-instance') add(definition['defines'], 'defines', 'entity-type');
  for (const key of ['runnable-list', 'members']) {
    const list = definition[key];
    if (Array.isArray(list))
      (list as readonly JsonValue[]).forEach((item, index) => add(item, `${key}/${index}`, 'member'));
  }
  const connections = definition['connections'];
  if (isObject(connections)) {
    for (const [name, connection] of Object.entries(connections)) {
      if (!isObject(connection)) continue;
      add(connection['runnable'], `connections/${name}/runnable`, 'connection');
      add(connection['target'], `connections/${name}/target`, 'connection');
    }
  }
  const depends = definition['depends'];
  const waitFor = isObject(depends) ? depends['wait-for'] : undefined;
  const runnables = isObject(waitFor) ? waitFor['runnables'] : undefined;
  if (Array.isArray(runnables)) {
    (runnables as readonly JsonValue[]).forEach((item, index) =>
      add(item, `depends/wait-for/runnables/${index}`, 'wait-for'),
    );
  }
  return out;
}
