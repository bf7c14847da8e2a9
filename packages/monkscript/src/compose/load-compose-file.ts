import { LineCounter, parseDocument, type Document, type ScalarTag } from 'yaml';
import { MonkError, type SourceLocation } from '@monk/model';
import type { ComposeWarning } from './compose-warning.ts';
import { isRecord, type ComposeRecord } from './compose-values.ts';
import { interpolate } from './interpolate.ts';
import { validateComposeSchema } from './validate-compose-schema.ts';

/** A Compose file parsed, stripped of `x-` extensions, interpolated and checked against the schema. */
export interface LoadedComposeFile {
  readonly file: string;
  readonly model: ComposeRecord;
  /** Each unset variable (no default) and the dotted key it was used in (`services.plex.volumes[0]`). */
  readonly unset: ReadonlyArray<{ readonly name: string; readonly key: string }>;
}

export interface LoadComposeFileOptions {
  readonly file: string;
  readonly contents: string;
  readonly lookup: (name: string) => string | undefined;
  readonly schema: object | undefined;
  /** Receives warnings; `id` identifies warnings that should be given once (an unset variable). */
  readonly warn: (warning: ComposeWarning, id?: string) => void;
}

// Compose reads YAML with go-yaml v3, which takes `0755` as octal (file modes); YAML 1.2's core schema
// would read it as decimal 755.
const legacyOctal: ScalarTag = {
  identify: (value) => typeof value === 'number',
  default: true,
  tag: 'tag:yaml.org,2002:int',
  format: 'OCT',
  test: /^0[0-7]+$/,
  resolve: (text) => parseInt(text, 8),
};

const maxAliasCount = 1000;

function locate(options: {
  doc: Document;
  lineCounter: LineCounter;
  file: string;
  path: readonly string[];
}): SourceLocation {
  const { doc, lineCounter, file, path } = options;
  // Walk down as far as the path exists in the document (keys merged in with `<<` do not).
  for (let length = path.length; length >= 0; length -= 1) {
    const segments = path
      .slice(0, length)
      .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
    const node: unknown = length === 0 ? doc.contents : doc.getIn(segments, true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range !== undefined) {
      const position = lineCounter.linePos(range[0]);
      return { file, line: position.line, column: position.col, path: path.join('/') };
    }
  }
  return { file, line: 1, column: 1, path: path.join('/') };
}

function dropExtensions(record: ComposeRecord): ComposeRecord {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !key.startsWith('x-')));
}

function serviceOf(path: readonly string[]): string | undefined {
  return path[0] === 'services' ? path[1] : undefined;
}

/** The key path as errors name it: `services.plex.volumes[0]`. */
function dottedKey(path: readonly string[]): string {
  return path
    .map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`))
    .join('')
    .slice(1);
}

function keyOf(path: readonly string[]): string {
  const relative = path[0] === 'services' && path.length > 2 ? path.slice(2) : path;
  return relative
    .map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`))
    .join('')
    .slice(1);
}

/**
 * Reads one Compose file: YAML (anchors, `<<` merge keys, go-yaml octals), top-level and service-level
 * `x-` extension fields dropped, every string value interpolated, then the schema check when a schema is
 * given.
 *
 * @throws MonkError `COMPOSE_INVALID` with the file, line and key path of what is wrong.
 */
export function loadComposeFile(options: LoadComposeFileOptions): LoadedComposeFile {
  const { file, warn } = options;
  const lineCounter = new LineCounter();
  const doc = parseDocument(options.contents, {
    merge: true,
    lineCounter,
    uniqueKeys: true,
    customTags: (tags) => [legacyOctal, ...tags],
  });
  const yamlError = doc.errors[0];
  if (yamlError !== undefined) {
    const position = yamlError.linePos?.[0] ?? { line: 1, col: 1 };
    throw new MonkError('COMPOSE_INVALID', `${file}:${position.line}:${position.col}: ${yamlError.message}`, {
      cause: yamlError,
      location: { file, line: position.line, column: position.col, path: '' },
    });
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount });
  } catch (error) {
    throw new MonkError(
      'COMPOSE_INVALID',
      `${file}: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
  if (raw === null || raw === undefined)
    throw new MonkError('COMPOSE_INVALID', `${file}: empty compose file`);
  if (!isRecord(raw)) {
    throw new MonkError('COMPOSE_INVALID', `${file}: a compose file must be a mapping at the top level`, {
      location: locate({ doc, lineCounter, file, path: [] }),
    });
  }
  const model = dropExtensions(raw);
  if (isRecord(model['services'])) {
    model['services'] = Object.fromEntries(
      Object.entries(model['services']).map(([name, service]) => [
        name,
        isRecord(service) ? dropExtensions(service) : service,
      ]),
    );
  }

  const unset: Array<{ name: string; key: string }> = [];
  const interpolateValue = (value: unknown, path: string[]): unknown => {
    if (typeof value === 'string') {
      try {
        return interpolate(value, {
          lookup: options.lookup,
          onUnset: (name) => {
            unset.push({ name, key: dottedKey(path) });
            const service = serviceOf(path);
            warn(
              {
                ...(service === undefined ? {} : { service }),
                key: keyOf(path),
                message: `${name} is not set; it is replaced by an empty string`,
              },
              // Compose warns once per variable, wherever it is used.
              `unset:${name}`,
            );
          },
          onBareDollar: () => {
            const service = serviceOf(path);
            warn({
              ...(service === undefined ? {} : { service }),
              key: keyOf(path),
              message: 'a "$" not followed by a variable name is kept as it is; write "$$" for a literal "$"',
            });
          },
        });
      } catch (error) {
        const location = locate({ doc, lineCounter, file, path });
        throw new MonkError(
          'COMPOSE_INVALID',
          `${file}:${location.line}: ${path.join('.')}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error, location },
        );
      }
    }
    if (Array.isArray(value))
      return value.map((item, index) => interpolateValue(item, [...path, String(index)]));
    if (isRecord(value)) {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, interpolateValue(item, [...path, key])]),
      );
    }
    return value;
  };
  const interpolated = interpolateValue(model, []) as ComposeRecord;

  if (options.schema !== undefined) {
    const violation = validateComposeSchema(options.schema, interpolated);
    if (violation !== undefined) {
      const location = locate({ doc, lineCounter, file, path: violation.path });
      const key = violation.path.join('.') || '(top level)';
      throw new MonkError('COMPOSE_INVALID', `${file}:${location.line}: ${key} ${violation.message}`, {
        location,
        details: { file, key },
      });
    }
  }
  return { file, model: interpolated, unset };
}
