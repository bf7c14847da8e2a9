import { MonkError } from '@monk/model';

/** How {@link interpolate} finds variables and reports what it could not resolve cleanly. */
export interface InterpolateOptions {
  /** The value of a variable, or `undefined` when it is unset. */
  readonly lookup: (name: string) => string | undefined;
  /** Called for each variable that is unset and has no default (it becomes the empty string). */
  readonly onUnset?: (name: string) => void;
  /** Called for a `$` followed by neither `$`, `{` nor a name: Compose rejects it, we keep it literally. */
  readonly onBareDollar?: () => void;
}

const namePattern = /^[_a-zA-Z][_a-zA-Z0-9]*/;
const bracedPattern = /^([_a-zA-Z][_a-zA-Z0-9]*)(?:(:-|-|:\?|\?|:\+|\+)([\s\S]*))?$/;

function invalid(template: string): MonkError {
  return new MonkError('COMPOSE_INVALID', `invalid interpolation format in ${JSON.stringify(template)}`);
}

/** Index of the `}` closing a `${` whose body starts at `start`, counting nested `${…}`; -1 if none. */
function findClosingBrace(template: string, start: number): number {
  let depth = 1;
  let i = start;
  while (i < template.length) {
    if (template.startsWith('$$', i)) {
      i += 2;
    } else if (template.startsWith('${', i)) {
      depth += 1;
      i += 2;
    } else {
      if (template.charAt(i) === '}') {
        depth -= 1;
        if (depth === 0) return i;
      }
      i += 1;
    }
  }
  return -1;
}

function evaluateBraced(body: string, template: string, options: InterpolateOptions): string {
  const match = bracedPattern.exec(body);
  if (match === null) throw invalid(template);
  const name = match[1] ?? '';
  const operator = match[2];
  const argument = match[3] ?? '';
  const value = options.lookup(name);
  // The argument is interpolated only when it is used, as a shell does.
  const expand = (): string => interpolate(argument, options);
  switch (operator) {
    case undefined:
      if (value === undefined) options.onUnset?.(name);
      return value ?? '';
    case ':-':
      return value === undefined || value === '' ? expand() : value;
    case '-':
      return value === undefined ? expand() : value;
    case ':?':
    case '?':
      if (value === undefined || (operator === ':?' && value === '')) {
        throw new MonkError('COMPOSE_INVALID', `required variable ${name} is missing a value: ${expand()}`);
      }
      return value;
    case ':+':
      return value !== undefined && value !== '' ? expand() : '';
    case '+':
      return value !== undefined ? expand() : '';
    default:
      throw invalid(template);
  }
}

/**
 * Interpolates one Compose string: `$$` is a literal `$`; `$VAR` and `${VAR}` are replaced by the value
 * (empty, with `onUnset`, when unset); `${VAR:-default}` / `${VAR-default}` fall back when unset or empty /
 * unset; `${VAR:?message}` / `${VAR?message}` fail; `${VAR:+alt}` / `${VAR+alt}` give `alt` when set and
 * non-empty / set. Arguments may nest further interpolations. A `$` followed by anything else is kept as
 * it is (after `onBareDollar`), so a bcrypt hash in a default survives.
 *
 * @throws MonkError `COMPOSE_INVALID` for a malformed `${…}` or a missing required variable.
 * @example interpolate('${TAG:-latest}', { lookup: () => undefined }) // 'latest'
 */
export function interpolate(template: string, options: InterpolateOptions): string {
  if (!template.includes('$')) return template;
  let out = '';
  let i = 0;
  while (i < template.length) {
    const c = template.charAt(i);
    if (c !== '$') {
      out += c;
      i += 1;
      continue;
    }
    const next = template.charAt(i + 1);
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '{') {
      const end = findClosingBrace(template, i + 2);
      if (end < 0) throw invalid(template);
      out += evaluateBraced(template.slice(i + 2, end), template, options);
      i = end + 1;
    } else {
      const name = namePattern.exec(template.slice(i + 1))?.[0];
      if (name === undefined) {
        options.onBareDollar?.();
        out += '$';
        i += 1;
      } else {
        const value = options.lookup(name);
        if (value === undefined) options.onUnset?.(name);
        out += value ?? '';
        i += 1 + name.length;
      }
    }
  }
  return out;
}
