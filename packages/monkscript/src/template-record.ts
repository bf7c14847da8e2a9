import { z } from 'zod';
import { jsonObjectSchema, MonkError, normalizeTemplatePath } from '@monk/model';
import type { JsonObject, SourceLocation } from '@monk/model';

/**
 * The largest file the loader reads (a template, a MANIFEST, an embedded `<<<` file, a Compose file):
 * 4 MiB. It checks the size before reading, so a huge file costs nothing but the refusal.
 */
export const maxTemplateFileBytes = 4 * 1024 * 1024;

/**
 * The largest template record monkd accepts (its JSON): 8 MiB, twice {@link maxTemplateFileBytes}, room
 * for source locations and quoting, but not for YAML aliases expanded into megabytes.
 */
export const maxTemplateRecordBytes = 2 * maxTemplateFileBytes;

/** `4 MiB`, `47.7 MiB`, `812 KiB`, `12 bytes`: sizes in messages. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) {
    const mib = bytes / (1024 * 1024);
    // Rounded up, so that a size just over a limit never prints as the limit.
    return `${Number.isInteger(mib) ? mib : (Math.ceil(mib * 10) / 10).toFixed(1)} MiB`;
  }
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KiB`;
  return `${bytes} bytes`;
}

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

/**
 * Validates a template record that arrives from outside the process (the control API): its shape, its
 * path (`namespace/name`, segments of letters, digits, `-`, `_`, `.`, none starting with `.`, so never
 * `../../etc`), that `namespace` and `name` agree with the path, and its size
 * ({@link maxTemplateRecordBytes}). `label` names it in messages (`template #2`).
 *
 * @throws MonkError `INVALID_REQUEST` (malformed, or a bad path named in the message), `TEMPLATE_TOO_LARGE`.
 * @example
 * const record = parseTemplateRecord(params.templates[0], 'template #1');
 */
export function parseTemplateRecord(value: unknown, label: string): z.infer<typeof templateRecordSchema> {
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  if (bytes > maxTemplateRecordBytes) {
    const path = recordPath(value);
    throw new MonkError(
      'TEMPLATE_TOO_LARGE',
      `${label}${path === undefined ? '' : ` (${path})`} is ${formatBytes(bytes)} as JSON; monkd accepts templates of at most ${formatBytes(maxTemplateRecordBytes)} (template files: at most ${formatBytes(maxTemplateFileBytes)})`,
      { details: { bytes, limit: maxTemplateRecordBytes, ...(path === undefined ? {} : { path }) } },
    );
  }
  const parsed = templateRecordSchema.safeParse(value);
  if (!parsed.success) {
    throw new MonkError('INVALID_REQUEST', `${label} is malformed: ${parsed.error.message}`);
  }
  const record = parsed.data;
  let normalized: string;
  try {
    normalized = normalizeTemplatePath(record.path);
  } catch (error) {
    throw new MonkError(
      'INVALID_REQUEST',
      `${label} has the path ${JSON.stringify(record.path)}, which is not a template path: expected namespace/name, each part letters, digits, "-", "_" or "." and not starting with "."`,
      { cause: error, details: { path: record.path } },
    );
  }
  if (normalized !== record.path || `${record.namespace}/${record.name}` !== record.path) {
    throw new MonkError(
      'INVALID_REQUEST',
      `${label} has the path ${JSON.stringify(record.path)} but namespace ${JSON.stringify(record.namespace)} and name ${JSON.stringify(record.name)}; they must agree (namespace/name, no leading "/")`,
      { details: { path: record.path } },
    );
  }
  return record;
}

function recordPath(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || !('path' in value)) return undefined;
  return typeof value.path === 'string' ? value.path : undefined;
}
