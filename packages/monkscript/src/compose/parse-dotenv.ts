import { MonkError } from '@monk/model';
import { setOwn } from './compose-values.ts';
import { interpolate } from './interpolate.ts';

/** Options of {@link parseDotenv}. */
export interface ParseDotenvOptions {
  /** Variables visible to `${…}` in values, after the ones defined earlier in the same file. */
  readonly lookup?: (name: string) => string | undefined;
  /** `raw`: every value is taken literally, no quotes, comments or interpolation (Compose `format: raw`). */
  readonly raw?: boolean;
  /** Name of the file, for error messages. */
  readonly file?: string;
}

const keyPattern = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(=|$)/;
const doubleQuoteEscapes: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  '\\': '\\',
  '"': '"',
  $: '$$',
};

/**
 * Parses a `.env` or `env_file` file as Compose does: `KEY=VALUE` lines, optional `export `, `#` comments
 * (a ` #` ends an unquoted value), single-quoted values taken literally, double-quoted values with `\n`,
 * `\t`, `\"` escapes and line breaks, `${VAR}` interpolation in unquoted and double-quoted values. A bare
 * `KEY` takes its value from `lookup` and is left out when that has none.
 *
 * @throws MonkError `COMPOSE_INVALID` naming the file and line of a malformed line or unterminated quote.
 * @example parseDotenv('A=1\nB="${A}-x" # note') // { A: '1', B: '1-x' }
 */
export function parseDotenv(contents: string, options: ParseDotenvOptions = {}): Record<string, string> {
  const result: Record<string, string> = {};
  const expand = (value: string): string =>
    interpolate(value, {
      lookup: (name) => (Object.hasOwn(result, name) ? result[name] : options.lookup?.(name)),
    });
  const lines = contents.replace(/\r\n?/g, '\n').split('\n');
  const fail = (index: number, what: string): MonkError =>
    new MonkError('COMPOSE_INVALID', `${options.file ?? 'env file'}:${index + 1}: ${what}`);
  for (let index = 0; index < lines.length; index += 1) {
    const line = (lines[index] ?? '').trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const match = keyPattern.exec(line);
    if (match === null) throw fail(index, `cannot parse ${JSON.stringify(line)}: expected KEY=VALUE`);
    const key = match[1] ?? '';
    if (match[2] !== '=') {
      const value = options.lookup?.(key);
      if (value !== undefined) setOwn(result, key, value);
      continue;
    }
    let rest = line.slice(match[0].length);
    if (options.raw === true) {
      setOwn(result, key, rest);
      continue;
    }
    rest = rest.trimStart();
    const quote = rest.charAt(0);
    if (quote === "'" || quote === '"') {
      // A quoted value may span lines: gather them until the closing quote.
      let body = rest.slice(1);
      let end = findClosingQuote(body, quote);
      while (end < 0 && index + 1 < lines.length) {
        index += 1;
        body += `\n${lines[index] ?? ''}`;
        end = findClosingQuote(body, quote);
      }
      if (end < 0) throw fail(index, `unterminated ${quote} quote in the value of ${key}`);
      const inner = body.slice(0, end);
      setOwn(
        result,
        key,
        quote === "'"
          ? inner
          : expand(inner.replace(/\\(.)/g, (all, c: string) => doubleQuoteEscapes[c] ?? all)),
      );
      continue;
    }
    const comment = /\s#/.exec(rest);
    const value = (comment === null ? rest : rest.slice(0, comment.index)).trimEnd();
    setOwn(result, key, expand(value));
  }
  return result;
}

function findClosingQuote(body: string, quote: string): number {
  for (let i = 0; i < body.length; i += 1) {
    const c = body.charAt(i);
    if (c === '\\' && quote === '"') i += 1;
    else if (c === quote) return i;
  }
  return -1;
}
