import { z } from 'zod';
import { jsonObjectSchema } from '@monk/model';
import type { JsonObject, SourceLocation } from '@monk/model';

/** What a top-level MonkScript block defines. `base` is a block without `defines` (an inheritance base). */
export const templateKinds = [
  'runnable',
  'process-group',
  'group',
  'service',
  'entity',
  'entity-instance',
  'module',
  'base',
] as const;
export type TemplateKind = (typeof templateKinds)[number];

/**
 * One loaded MonkScript block, as written: `definition` has its `<<<` embeds expanded but its `inherits`
 * not applied yet (templates from other loads may still arrive). `locations` maps key paths inside the
 * definition (`containers/wp/image`, `variables/port/value`, `paths/0`; `''` for the block itself) to the
 * 1-based line and column where they were written.
 */
export interface TemplateRecord {
  /** `namespace/name`. */
  readonly path: string;
  readonly namespace: string;
  readonly name: string;
  readonly kind: TemplateKind;
  /** The file the block was loaded from. */
  readonly file: string;
  readonly definition: JsonObject;
  readonly locations: Readonly<Record<string, readonly [line: number, column: number]>>;
}

/**
 * Validates a {@link TemplateRecord} that arrives from outside the process (the control API, the graph).
 *
 * @example
 * const record = templateRecordSchema.parse(JSON.parse(body));
 */
export const templateRecordSchema = z.object({
  path: z.string().min(3),
  namespace: z.string().min(1),
  name: z.string().min(1),
  kind: z.enum(templateKinds),
  file: z.string(),
  definition: jsonObjectSchema,
  locations: z.record(z.string(), z.tuple([z.number().int().min(0), z.number().int().min(0)])),
});

/** Something a load noticed but did not refuse: a reference to a template not loaded, a redefinition. */
export interface LoadWarning {
  readonly code: 'UNRESOLVED_REFERENCE' | 'DUPLICATE_TEMPLATE' | 'COMPOSE_IMPORT';
  readonly message: string;
  /** The template the warning is about. */
  readonly template: string;
  /** For `UNRESOLVED_REFERENCE`: the path that is not loaded. */
  readonly reference?: string;
  readonly location?: SourceLocation;
}

/** Builds the {@link SourceLocation} of a key path inside a record (falls back to the block itself). */
export function locationOf(record: TemplateRecord, keyPath: string): SourceLocation {
  let probe = keyPath;
  for (;;) {
    const found = record.locations[probe];
    if (found !== undefined) {
      return {
        file: record.file,
        line: found[0],
        column: found[1],
        path: keyPath === '' ? record.path : `${record.path}/${keyPath}`,
      };
    }
    if (probe === '') break;
    const cut = probe.lastIndexOf('/');
    probe = cut < 0 ? '' : probe.slice(0, cut);
  }
  return {
    file: record.file,
    line: 0,
    column: 0,
    path: keyPath === '' ? record.path : `${record.path}/${keyPath}`,
  };
}
