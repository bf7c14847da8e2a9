import type { JsonValue, SourceLocation } from '@monk/model';
import { arrowError } from './arrow-error.ts';

/** A run of Arrow nodes executed left to right on one stack. */
export type ArrowSequence = readonly ArrowNode[];

/** One piece of an interpolated (backtick) string. */
export type ArrowTemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'variable'; readonly name: string; readonly offset: number }
  | { readonly kind: 'literal'; readonly value: JsonValue };

/**
 * One node of a parsed Arrow expression. Plain data: it can be cached, compared and serialised. `offset` is the
 * 0-based position of the node inside {@link ArrowProgram.source}.
 */
export type ArrowNode =
  | { readonly kind: 'literal'; readonly value: JsonValue; readonly offset: number }
  | { readonly kind: 'bigint'; readonly digits: string; readonly offset: number }
  | { readonly kind: 'template'; readonly parts: readonly ArrowTemplatePart[]; readonly offset: number }
  | {
      readonly kind: 'variable';
      readonly name: string;
      readonly offset: number;
      /** Member access after the name, `$args["a"]` or `$list[0][1]`: keys and indexes, applied in order. */
      readonly members?: readonly ArrowMember[];
    }
  | { readonly kind: 'array'; readonly items: readonly ArrowSequence[]; readonly offset: number }
  | {
      readonly kind: 'object';
      readonly entries: readonly { readonly key: ArrowNode; readonly value: ArrowSequence }[];
      readonly offset: number;
    }
  | { readonly kind: 'function'; readonly body: ArrowSequence; readonly offset: number }
  | {
      readonly kind: 'operator';
      readonly name: string;
      /** Parenthesised arguments, or `null` for the postfix form (`concat` rather than `concat("x")`). */
      readonly args: readonly ArrowSequence[] | null;
      readonly offset: number;
    };

/** One `["key"]` or `[index]` after a variable; `offset` is where its `[` is. */
export interface ArrowMember {
  readonly key: string | number;
  readonly offset: number;
}

/** A parsed Arrow expression: the text it came from and its nodes. Plain data, safe to cache and reuse. */
export interface ArrowProgram {
  /** The expression exactly as given to {@link parseArrow}; node offsets and error columns refer to it. */
  readonly source: string;
  readonly body: ArrowSequence;
}

/** Longest expression accepted, in UTF-16 code units. */
export const maxArrowSourceLength = 65_536;
/** Deepest nesting of brackets, braces, parentheses and functions accepted. */
export const maxArrowNesting = 64;

const arrowPattern = /^\s*<-/;

/**
 * True when a template value is an Arrow expression: it starts with `<-`, after optional whitespace.
 *
 * @example
 * isArrowExpression('<- $db_name default("wpdb")'); // true
 * isArrowExpression('wpdb'); // false
 */
export function isArrowExpression(value: string): boolean {
  return arrowPattern.test(value);
}

/**
 * Parses an Arrow expression into an {@link ArrowProgram}. `source` is the text after `<-`; a leading `<-` (after
 * optional whitespace) is accepted and skipped. Parsing is pure and bounded: it never evaluates anything.
 *
 * @throws MonkError `ARROW_SYNTAX` naming the column (and line) inside the expression, with the caller's `location`;
 *   also for expressions longer than {@link maxArrowSourceLength} or nested deeper than {@link maxArrowNesting}.
 * @example
 * const program = parseArrow('<- $db_name default("wpdb")', { file: 'wp.yaml', line: 12, column: 14, path: 'wp/variables/db' });
 */
export function parseArrow(source: string, location?: SourceLocation): ArrowProgram {
  const parser = new Parser(source, location);
  return { source, body: parser.parseProgram() };
}

/**
 * Splits the text of an interpolated string into parts. With `escapes`, backslash escapes are decoded (the backtick
 * form inside Arrow); without, the text is taken literally (plain template strings).
 *
 * @throws MonkError `ARROW_SYNTAX` for an unterminated `${` or an invalid placeholder.
 */
export function parseTemplate(
  text: string,
  options: { readonly escapes: boolean; readonly location?: SourceLocation | undefined },
): readonly ArrowTemplatePart[] {
  if (text.length > maxArrowSourceLength) {
    throw arrowError('ARROW_SYNTAX', `template is longer than ${maxArrowSourceLength} characters`, {
      expression: text,
      offset: 0,
      location: options.location,
    });
  }
  const parser = new Parser(text, options.location);
  return parser.parseTemplateBody({ start: 0, end: text.length, escapes: options.escapes });
}

const whitespace = /\s/u;
const letter = /\p{L}/u;
const digit = /[0-9]/;
// Characters that end a name or a number: whitespace and the punctuation of the language.
const delimiters = new Set(['(', ')', '[', ']', '{', '}', ',', ':', '"', "'", '`', '$']);
const numberPattern =
  /[+-]?(?:0[bB][01]+(?![0-9])|0[xX][0-9a-fA-F]+|0[oO][0-7]+(?![0-9])|[0-9]+n|(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)/y;
const namePattern = /^\$?[\p{L}_][^\s()[\]{},:"'`$]*$/u;

class Parser {
  readonly #source: string;
  readonly #location: SourceLocation | undefined;
  #index = 0;
  #depth = 0;

  constructor(source: string, location: SourceLocation | undefined) {
    this.#source = source;
    this.#location = location;
  }

  parseProgram(): ArrowSequence {
    if (this.#source.length > maxArrowSourceLength) {
      throw this.#error(`expression is longer than ${maxArrowSourceLength} characters`, 0);
    }
    const arrow = /^\s*<-/.exec(this.#source);
    // `<-{` at the very start is a function literal, not the arrow marker followed by an object.
    if (arrow !== null && this.#source.charAt(arrow[0].length) !== '{') this.#index = arrow[0].length;
    const body = this.#sequence('');
    if (this.#index < this.#source.length) {
      throw this.#error(`unexpected ${describe(this.#peek())}`, this.#index);
    }
    return body;
  }

  parseTemplateBody(range: { start: number; end: number; escapes: boolean }): readonly ArrowTemplatePart[] {
    const parts: ArrowTemplatePart[] = [];
    let text = '';
    let index = range.start;
    const flush = (): void => {
      if (text.length > 0) parts.push({ kind: 'text', text });
      text = '';
    };
    while (index < range.end) {
      const char = this.#source.charAt(index);
      if (char === '\\' && range.escapes) {
        const escape = this.#escape(index, range.end);
        text += escape.text;
        index = escape.next;
      } else if (char === '$' && this.#source.charAt(index + 1) === '{') {
        const close = this.#source.indexOf('}', index + 2);
        if (close === -1 || close >= range.end)
          throw this.#error('unterminated ${ in interpolated string', index);
        flush();
        parts.push(this.#placeholder(index + 2, close));
        index = close + 1;
      } else {
        text += char;
        index += 1;
      }
    }
    flush();
    return parts;
  }

  #placeholder(start: number, end: number): ArrowTemplatePart {
    const raw = this.#source.slice(start, end);
    const inner = raw.trim();
    const offset = start + raw.indexOf(inner.charAt(0));
    if (inner === '') throw this.#error('empty ${} in interpolated string', start - 2);
    if (namePattern.test(inner) && inner !== 'nil' && inner !== 'true' && inner !== 'false') {
      return { kind: 'variable', name: inner.startsWith('$') ? inner.slice(1) : inner, offset };
    }
    const literal = new Parser(inner, this.#location).#placeholderLiteral();
    if (literal === undefined) {
      throw this.#error('only a variable name or a literal may appear inside ${...}', offset);
    }
    return { kind: 'literal', value: literal };
  }

  #placeholderLiteral(): JsonValue | undefined {
    try {
      const body = this.#sequence('');
      const only = body.length === 1 && this.#index === this.#source.length ? body[0] : undefined;
      if (only?.kind === 'literal') return only.value;
      if (only?.kind === 'bigint') return only.digits;
      return undefined;
    } catch {
      return undefined;
    }
  }

  // A sequence of terms up to one of `terminators` (not consumed) or the end of the source.
  #sequence(terminators: string): ArrowNode[] {
    const nodes: ArrowNode[] = [];
    for (;;) {
      this.#skipWhitespace();
      const char = this.#peek();
      if (char === '' || terminators.includes(char)) return nodes;
      nodes.push(this.#term());
      this.#expectBoundary();
    }
  }

  #term(): ArrowNode {
    const start = this.#index;
    const char = this.#peek();
    if (char === '"' || char === "'") return { kind: 'literal', value: this.#quoted(char), offset: start };
    if (char === '`') return this.#template();
    if (char === '$') return this.#variable();
    if (char === '[') return this.#nested(() => this.#array());
    if (char === '{') return this.#nested(() => this.#object());
    if (char === '<' && this.#source.startsWith('<-{', start)) return this.#nested(() => this.#function());
    if (digit.test(char) || ((char === '-' || char === '+' || char === '.') && digit.test(this.#peek(1)))) {
      return this.#number();
    }
    if (letter.test(char) || char === '_') return this.#word();
    throw this.#error(`unexpected ${describe(char)}`, start);
  }

  #nested(parse: () => ArrowNode): ArrowNode {
    if (this.#depth >= maxArrowNesting)
      throw this.#error(`nesting deeper than ${maxArrowNesting}`, this.#index);
    this.#depth += 1;
    try {
      return parse();
    } finally {
      this.#depth -= 1;
    }
  }

  #expectBoundary(): void {
    const char = this.#peek();
    if (char === '' || whitespace.test(char) || ',)]}:'.includes(char)) return;
    throw this.#error(`expected whitespace before ${describe(char)}`, this.#index);
  }

  #quoted(quote: string): string {
    const start = this.#index;
    let index = start + 1;
    let value = '';
    for (;;) {
      if (index >= this.#source.length) throw this.#error('unterminated string', start);
      const char = this.#source.charAt(index);
      if (char === quote) break;
      if (char === '\\') {
        const escape = this.#escape(index, this.#source.length);
        value += escape.text;
        index = escape.next;
      } else {
        value += char;
        index += 1;
      }
    }
    this.#index = index + 1;
    return value;
  }

  #template(): ArrowNode {
    const start = this.#index;
    let index = start + 1;
    while (index < this.#source.length && this.#source.charAt(index) !== '`') {
      index += this.#source.charAt(index) === '\\' ? 2 : 1;
    }
    if (index >= this.#source.length) throw this.#error('unterminated interpolated string', start);
    const parts = this.parseTemplateBody({ start: start + 1, end: index, escapes: true });
    this.#index = index + 1;
    return { kind: 'template', parts, offset: start };
  }

  #escape(index: number, end: number): { text: string; next: number } {
    const next = this.#source.charAt(index + 1);
    if (index + 1 >= end) throw this.#error('unterminated escape sequence', index);
    const simple: Record<string, string> = {
      n: '\n',
      t: '\t',
      r: '\r',
      b: '\b',
      f: '\f',
      v: '\v',
      '0': '\0',
    };
    const mapped = simple[next];
    if (mapped !== undefined && !(next === '0' && digit.test(this.#source.charAt(index + 2)))) {
      return { text: mapped, next: index + 2 };
    }
    if (next === 'x') return this.#hexEscape({ index, digits: 2, skip: 2 });
    if (next === 'u' && this.#source.charAt(index + 2) === '{') {
      const close = this.#source.indexOf('}', index + 3);
      const hex = close === -1 ? '' : this.#source.slice(index + 3, close);
      if (!/^[0-9a-fA-F]{1,6}$/.test(hex) || Number.parseInt(hex, 16) > 0x10ffff) {
        throw this.#error('invalid unicode escape', index);
      }
      return { text: String.fromCodePoint(Number.parseInt(hex, 16)), next: close + 1 };
    }
    if (next === 'u') return this.#hexEscape({ index, digits: 4, skip: 2 });
    if ('\\"\'`$/'.includes(next)) return { text: next, next: index + 2 };
    // Unknown escapes are kept verbatim: shell commands and regular expressions in templates rely on them.
    return { text: `\\${next}`, next: index + 2 };
  }

  #hexEscape(options: { index: number; digits: number; skip: number }): { text: string; next: number } {
    const start = options.index + options.skip;
    const hex = this.#source.slice(start, start + options.digits);
    if (hex.length !== options.digits || !/^[0-9a-fA-F]+$/.test(hex)) {
      throw this.#error('invalid hexadecimal escape', options.index);
    }
    return { text: String.fromCharCode(Number.parseInt(hex, 16)), next: start + options.digits };
  }

  #variable(): ArrowNode {
    const start = this.#index;
    this.#index += 1;
    const first = this.#peek();
    if (!(letter.test(first) || first === '_')) {
      throw this.#error('expected a variable name after $', start);
    }
    const name = this.#name();
    const members: ArrowMember[] = [];
    while (this.#peek() === '[') members.push(this.#member());
    return members.length === 0
      ? { kind: 'variable', name, offset: start }
      : { kind: 'variable', name, offset: start, members };
  }

  // `["key"]` or `[0]` right after a variable: the key is a quoted string or a non-negative integer.
  #member(): ArrowMember {
    const open = this.#index;
    this.#index += 1;
    this.#skipWhitespace();
    const char = this.#peek();
    let key: string | number;
    if (char === '"' || char === "'") {
      key = this.#quoted(char);
    } else if (digit.test(char)) {
      const digits = /[0-9]+/y;
      digits.lastIndex = this.#index;
      const text = digits.exec(this.#source)?.[0] ?? '';
      this.#index += text.length;
      key = Number(text);
      if (!Number.isSafeInteger(key)) throw this.#error('index out of range', open + 1);
    } else {
      throw this.#error(
        'a member access takes a quoted key or a non-negative integer index, as in $args["a"] or $list[0]',
        this.#index,
      );
    }
    this.#skipWhitespace();
    if (this.#peek() !== ']') throw this.#error('missing ] of member access', open);
    this.#index += 1;
    return { key, offset: open };
  }

  #name(): string {
    const start = this.#index;
    while (this.#index < this.#source.length) {
      const char = this.#source.charAt(this.#index);
      if (whitespace.test(char) || delimiters.has(char)) break;
      this.#index += 1;
    }
    return this.#source.slice(start, this.#index);
  }

  #word(): ArrowNode {
    const start = this.#index;
    const name = this.#name();
    if (this.#peek() === '(') {
      return this.#nested(() => ({ kind: 'operator', name, args: this.#arguments(), offset: start }));
    }
    if (name === 'nil') return { kind: 'literal', value: null, offset: start };
    if (name === 'true') return { kind: 'literal', value: true, offset: start };
    if (name === 'false') return { kind: 'literal', value: false, offset: start };
    return { kind: 'operator', name, args: null, offset: start };
  }

  #arguments(): ArrowSequence[] {
    const open = this.#index;
    this.#index += 1;
    return this.#list({ open, close: ')', what: 'argument' });
  }

  // Comma-separated sequences up to `close`; `[]`, `f()` and a trailing comma are accepted.
  #list(options: { open: number; close: string; what: string }): ArrowSequence[] {
    const items: ArrowSequence[] = [];
    for (;;) {
      this.#skipWhitespace();
      if (this.#peek() === options.close) {
        this.#index += 1;
        return items;
      }
      const itemStart = this.#index;
      const item = this.#sequence(`,${options.close}`);
      const char = this.#peek();
      if (char === '') throw this.#error(`missing ${options.close}`, options.open);
      if (item.length === 0) throw this.#error(`empty ${options.what}`, itemStart);
      items.push(item);
      if (char === ',') {
        this.#index += 1;
      } else if (char !== options.close) {
        throw this.#error(`unexpected ${describe(char)}`, this.#index);
      }
    }
  }

  #array(): ArrowNode {
    const open = this.#index;
    this.#index += 1;
    return { kind: 'array', items: this.#list({ open, close: ']', what: 'array item' }), offset: open };
  }

  #object(): ArrowNode {
    const open = this.#index;
    this.#index += 1;
    const entries: { key: ArrowNode; value: ArrowSequence }[] = [];
    for (;;) {
      this.#skipWhitespace();
      const char = this.#peek();
      if (char === '}') {
        this.#index += 1;
        return { kind: 'object', entries, offset: open };
      }
      if (char === '') throw this.#error('missing }', open);
      const key = this.#objectKey();
      this.#skipWhitespace();
      if (this.#peek() !== ':') throw this.#error('expected : after object key', this.#index);
      this.#index += 1;
      const valueStart = this.#index;
      const value = this.#sequence(',}');
      if (this.#peek() === '') throw this.#error('missing }', open);
      if (value.length === 0) throw this.#error('missing object value', valueStart);
      entries.push({ key, value });
      if (this.#peek() === ',') this.#index += 1;
    }
  }

  #objectKey(): ArrowNode {
    const start = this.#index;
    const char = this.#peek();
    if (letter.test(char) || char === '_') {
      // A bare word key is a string, as in `{b: 2}`.
      return { kind: 'literal', value: this.#name(), offset: start };
    }
    const key = this.#term();
    if (
      key.kind !== 'literal' &&
      key.kind !== 'bigint' &&
      key.kind !== 'template' &&
      key.kind !== 'variable'
    ) {
      throw this.#error('an object key must be a name, a literal or a variable', start);
    }
    return key;
  }

  #function(): ArrowNode {
    const start = this.#index;
    this.#index += 3;
    const body = this.#sequence('}');
    if (this.#peek() !== '}') throw this.#error('missing } of function', start);
    this.#index += 1;
    return { kind: 'function', body, offset: start };
  }

  #number(): ArrowNode {
    const start = this.#index;
    numberPattern.lastIndex = start;
    const match = numberPattern.exec(this.#source);
    const text = match?.[0] ?? '';
    const after = this.#source.charAt(start + text.length);
    if (text === '' || (after !== '' && !whitespace.test(after) && !',)]}:'.includes(after))) {
      throw this.#error('invalid number', start);
    }
    this.#index = start + text.length;
    const negative = text.startsWith('-');
    const unsigned = text.replace(/^[+-]/, '');
    if (unsigned.endsWith('n')) {
      return {
        kind: 'bigint',
        digits: BigInt(`${negative ? '-' : ''}${unsigned.slice(0, -1)}`).toString(),
        offset: start,
      };
    }
    let magnitude: bigint | number;
    if (/^0[bBxXoO]/.test(unsigned)) {
      magnitude = BigInt(unsigned.toLowerCase());
    } else if (/^0[0-9]+$/.test(unsigned)) {
      // A leading zero means octal, as in `0777`.
      if (/[89]/.test(unsigned)) throw this.#error('invalid octal number', start);
      magnitude = BigInt(`0o${unsigned.slice(1)}`);
    } else if (/^[0-9]+$/.test(unsigned)) {
      magnitude = BigInt(unsigned);
    } else {
      const value = Number(text);
      if (!Number.isFinite(value)) throw this.#error('number out of range', start);
      return { kind: 'literal', value, offset: start };
    }
    const signed = negative ? -magnitude : magnitude;
    // Integers beyond 2^53 keep their precision as BigInt.
    if (signed > BigInt(Number.MAX_SAFE_INTEGER) || signed < BigInt(Number.MIN_SAFE_INTEGER)) {
      return { kind: 'bigint', digits: signed.toString(), offset: start };
    }
    return { kind: 'literal', value: Number(signed), offset: start };
  }

  #skipWhitespace(): void {
    while (this.#index < this.#source.length && whitespace.test(this.#source.charAt(this.#index)))
      this.#index += 1;
  }

  #peek(ahead = 0): string {
    return this.#source.charAt(this.#index + ahead);
  }

  #error(message: string, offset: number): Error {
    return arrowError('ARROW_SYNTAX', message, {
      expression: this.#source,
      offset,
      location: this.#location,
    });
  }
}

function describe(char: string): string {
  return char === '' ? 'end of expression' : `character ${JSON.stringify(char)}`;
}
