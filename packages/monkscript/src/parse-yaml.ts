import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments } from 'yaml';
import type { Document, Node, Tags } from 'yaml';
import { MonkError } from '@monk/model';
import type { JsonValue } from '@monk/model';

/** One YAML document: its plain value and where each key path was written. */
export interface ParsedDocument {
  readonly value: JsonValue;
  /** Key path from the document root (`wordpress/containers/wp/image`, `db/paths/0`) → [line, column]. */
  readonly locations: ReadonlyMap<string, readonly [number, number]>;
  /** 1-based line of the document's start. */
  readonly line: number;
}

/** Above this many nodes (aliases included) a document is refused: it protects against alias bombs. */
const maxNodes = 250_000;

/**
 * Monk reads templates with Go's YAML 1.1 loader, where `0755` is octal (file modes). YAML 1.2's core
 * schema reads it as decimal 755; this tag restores the 1.1 meaning and nothing else of 1.1.
 */
const octalInt = {
  identify: (value: unknown) => typeof value === 'number',
  default: true,
  tag: 'tag:yaml.org,2002:int',
  format: 'OCT',
  test: /^0[0-7]+$/,
  resolve: (source: string) => Number.parseInt(source, 8),
};

function withOctal(tags: Tags): Tags {
  return [octalInt, ...tags];
}

/**
 * Parses a YAML stream (several documents separated by `---`) into plain JSON values with the position of
 * every key. Throws `TEMPLATE_PARSE_ERROR` (with `location`) on invalid YAML, duplicate keys, non-scalar
 * keys, non-finite numbers or runaway alias expansion.
 *
 * @example
 * const [doc] = parseYamlDocuments({ file: 'kit.yaml', text: 'namespace: a\nx: {}' });
 */
export function parseYamlDocuments(options: { file: string; text: string }): ParsedDocument[] {
  const { file, text } = options;
  const lineCounter = new LineCounter();
  let documents: Document.Parsed[];
  try {
    documents = Array.from(
      parseAllDocuments(text, { lineCounter, customTags: withOctal, uniqueKeys: true, prettyErrors: false }),
    );
  } catch (error) {
    throw new MonkError('TEMPLATE_PARSE_ERROR', `${file}: cannot parse YAML: ${String(error)}`, {
      cause: error,
      location: { file, line: 1, column: 1, path: '' },
    });
  }
  const position = (offset: number): [number, number] => {
    const { line, col } = lineCounter.linePos(offset);
    return [line, col];
  };
  return documents.map((document) => {
    const firstError = document.errors[0];
    if (firstError !== undefined) {
      const [line, column] = position(firstError.pos[0]);
      throw new MonkError(
        'TEMPLATE_PARSE_ERROR',
        `${file}:${line}:${column}: ${firstError.message.split('\n')[0] ?? ''}`,
        {
          cause: firstError,
          location: { file, line, column, path: '' },
          details: { errors: document.errors.length },
        },
      );
    }
    const locations = new Map<string, readonly [number, number]>();
    const walker = { file, document, locations, position, budget: maxNodes };
    const value = document.contents === null ? null : toJson(walker, { node: document.contents, path: '' });
    return { value, locations, line: position(document.range[0])[0] };
  });
}

interface Walker {
  readonly file: string;
  readonly document: Document.Parsed;
  readonly locations: Map<string, readonly [number, number]>;
  readonly position: (offset: number) => [number, number];
  budget: number;
}

function fail(walker: Walker, options: { node: Node; path: string; message: string }): never {
  const [line, column] =
    options.node.range === undefined || options.node.range === null
      ? [0, 0]
      : walker.position(options.node.range[0]);
  throw new MonkError(
    'TEMPLATE_PARSE_ERROR',
    `${walker.file}:${line}:${column} (${options.path}): ${options.message}`,
    {
      location: { file: walker.file, line, column, path: options.path },
    },
  );
}

function join(path: string, segment: string): string {
  return path === '' ? segment : `${path}/${segment}`;
}

function toJson(walker: Walker, at: { node: Node; path: string; depth?: number }): JsonValue {
  const { node, path } = at;
  const depth = at.depth ?? 0;
  walker.budget -= 1;
  if (walker.budget < 0) fail(walker, { node, path, message: 'document too large (alias expansion?)' });
  if (depth > 200) fail(walker, { node, path, message: 'document nested too deeply' });
  if (isAlias(node)) {
    const target = node.resolve(walker.document);
    if (target === undefined) fail(walker, { node, path, message: `unknown alias *${node.source}` });
    return toJson(walker, { node: target, path, depth: depth + 1 });
  }
  if (isScalar(node)) {
    const value: unknown = node.value;
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
    if (typeof value === 'number') {
      if (!Number.isFinite(value))
        fail(walker, { node, path, message: `${String(value)} is not a finite number` });
      return value;
    }
    if (typeof value === 'bigint') return Number(value);
    if (value instanceof Date) return value.toISOString();
    return fail(walker, { node, path, message: 'unsupported scalar value' });
  }
  if (isSeq(node)) {
    return node.items.map((item, index) => {
      const itemPath = join(path, String(index));
      if (item === null || !isNodeLike(item)) return null;
      record(walker, { node: item, path: itemPath });
      return toJson(walker, { node: item, path: itemPath, depth: depth + 1 });
    });
  }
  if (isMap(node)) {
    const result: Record<string, JsonValue> = {};
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key;
      let key: string;
      if (keyNode === null || keyNode === undefined) key = '';
      else if (isScalar(keyNode)) {
        const raw: unknown = keyNode.value;
        if (
          raw !== null &&
          typeof raw !== 'string' &&
          typeof raw !== 'number' &&
          typeof raw !== 'boolean' &&
          typeof raw !== 'bigint'
        ) {
          return fail(walker, { node: keyNode, path, message: 'map keys must be plain scalars' });
        }
        key = raw === null ? '' : String(raw);
      } else
        return fail(walker, {
          node: isNodeLike(keyNode) ? keyNode : node,
          path,
          message: 'map keys must be plain scalars',
        });
      if (key === '' || key === '__proto__') {
        fail(walker, {
          node: isNodeLike(keyNode) ? keyNode : node,
          path,
          message: `invalid map key "${key}"`,
        });
      }
      const keyPath = join(path, key);
      if (isNodeLike(keyNode)) record(walker, { node: keyNode, path: keyPath });
      const valueNode = pair.value;
      result[key] =
        valueNode === null || !isNodeLike(valueNode)
          ? null
          : toJson(walker, { node: valueNode, path: keyPath, depth: depth + 1 });
    }
    return result;
  }
  return fail(walker, { node, path, message: 'unsupported YAML node' });
}

function isNodeLike(value: unknown): value is Node {
  return isScalar(value) || isMap(value) || isSeq(value) || isAlias(value);
}

function record(walker: Walker, at: { node: Node; path: string }): void {
  if (walker.locations.has(at.path) || at.node.range === undefined || at.node.range === null) return;
  walker.locations.set(at.path, walker.position(at.node.range[0]));
}
