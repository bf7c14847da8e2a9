import { MonkError } from '@monk/model';
import type { SourceLocation } from '@monk/model';
import { describe, expect, it } from 'vitest';
import { isArrowExpression, maxArrowSourceLength, parseArrow, parseTemplate } from './parse.ts';
import type { ArrowNode } from './parse.ts';

const location: SourceLocation = { file: 'kit.yaml', line: 7, column: 12, path: 'app/variables/x' };

function only(source: string): ArrowNode {
  const { body } = parseArrow(source);
  expect(body).toHaveLength(1);
  return body[0]!;
}

function syntaxError(source: string): MonkError {
  try {
    parseArrow(source, location);
  } catch (error) {
    expect(error).toBeInstanceOf(MonkError);
    return error as MonkError;
  }
  throw new Error(`expected ${source} to fail`);
}

describe('isArrowExpression', () => {
  it.each([
    ['<- $a', true],
    ['   <- $a', true],
    ['<-$a', true],
    ['\n<- $a', true],
    ['a <- b', false],
    ['<', false],
    ['', false],
    ['- <-', false],
  ])('%j -> %s', (value, expected) => {
    expect(isArrowExpression(value)).toBe(expected);
  });
});

describe('parseArrow literals', () => {
  it.each<[string, unknown]>([
    ['nil', null],
    ['true', true],
    ['false', false],
    ['0', 0],
    ['42', 42],
    ['-1337', -1337],
    ['+5', 5],
    ['0b11', 3],
    ['0xff', 255],
    ['0XFF', 255],
    ['0o17', 15],
    ['0777', 511],
    ['-0x10', -16],
    ['0.1', 0.1],
    ['-0.4e2', -40],
    ['1e3', 1000],
    ['.5', 0.5],
    ['"foo"', 'foo'],
    ["'bar'", 'bar'],
    ['"a\\nb\\t\\"c\\""', 'a\nb\t"c"'],
    ["'it\\'s'", "it's"],
    ['"\\u00e9\\x41\\u{1F600}"', 'éA😀'],
    ['"keep \\d and \\."', 'keep \\d and \\.'],
    ['"single \'quotes\' inside"', "single 'quotes' inside"],
    ['"ünïcödé"', 'ünïcödé'],
  ])('%s', (source, value) => {
    expect(only(`<- ${source}`)).toMatchObject({ kind: 'literal', value });
  });

  it('parses BigInt literals and integers beyond 2^53 as BigInt digits', () => {
    expect(only('123456789012n')).toMatchObject({ kind: 'bigint', digits: '123456789012' });
    expect(only('-5n')).toMatchObject({ kind: 'bigint', digits: '-5' });
    expect(only('9007199254740993')).toMatchObject({ kind: 'bigint', digits: '9007199254740993' });
  });

  it('parses variables whose names contain - and _', () => {
    expect(only('<- $monk-volume-path')).toEqual({ kind: 'variable', name: 'monk-volume-path', offset: 3 });
    expect(only('$follower-2_port')).toMatchObject({ kind: 'variable', name: 'follower-2_port' });
    expect(only('$ünï')).toMatchObject({ kind: 'variable', name: 'ünï' });
  });

  it('parses backtick strings into text and variable parts', () => {
    expect(only('<- `${monk-volume-path}/wordpress/db:/var/lib/mysql`')).toMatchObject({
      kind: 'template',
      parts: [
        { kind: 'variable', name: 'monk-volume-path' },
        { kind: 'text', text: '/wordpress/db:/var/lib/mysql' },
      ],
    });
    expect(only('`a ${ x } $HOME \\${y} ${"lit"} ${42}`')).toMatchObject({
      parts: [
        { kind: 'text', text: 'a ' },
        { kind: 'variable', name: 'x' },
        { kind: 'text', text: ' $HOME ${y} ' },
        { kind: 'literal', value: 'lit' },
        { kind: 'text', text: ' ' },
        { kind: 'literal', value: 42 },
      ],
    });
  });

  it('parses arrays and objects, including variable and bare keys', () => {
    expect(only('[1, "foo", []]')).toMatchObject({
      kind: 'array',
      items: [[{ value: 1 }], [{ value: 'foo' }], [{ kind: 'array', items: [] }]],
    });
    expect(only('{"a": 1, b: 2, $var: 4,}')).toMatchObject({
      kind: 'object',
      entries: [
        { key: { kind: 'literal', value: 'a' }, value: [{ value: 1 }] },
        { key: { kind: 'literal', value: 'b' }, value: [{ value: 2 }] },
        { key: { kind: 'variable', name: 'var' }, value: [{ value: 4 }] },
      ],
    });
    expect(only('{}')).toMatchObject({ kind: 'object', entries: [] });
  });

  it('parses operators in postfix and call form', () => {
    expect(parseArrow('<- $db_name default("wpdb")').body).toMatchObject([
      { kind: 'variable', name: 'db_name', offset: 3 },
      { kind: 'operator', name: 'default', args: [[{ kind: 'literal', value: 'wpdb' }]], offset: 12 },
    ]);
    expect(parseArrow('"x" contains? error? not').body).toMatchObject([
      { kind: 'literal' },
      { kind: 'operator', name: 'contains?', args: null },
      { kind: 'operator', name: 'error?', args: null },
      { kind: 'operator', name: 'not', args: null },
    ]);
    expect(only('exec("c", "/bin/sh", "-c", `x`)')).toMatchObject({
      kind: 'operator',
      name: 'exec',
      args: [[{ value: 'c' }], [{ value: '/bin/sh' }], [{ value: '-c' }], [{ kind: 'template' }]],
    });
    expect(only('random-uuid()')).toMatchObject({ kind: 'operator', name: 'random-uuid', args: [] });
    expect(only('f(1 2 add, g(3))')).toMatchObject({
      args: [[{ value: 1 }, { value: 2 }, { name: 'add' }], [{ name: 'g', args: [[{ value: 3 }]] }]],
    });
  });

  it('parses functions and accepts the source with or without <-, across lines', () => {
    expect(parseArrow('<- [1] map(<-{ 1 add })').body[1]).toMatchObject({
      args: [[{ kind: 'function', body: [{ value: 1 }, { name: 'add' }] }]],
    });
    expect(parseArrow('<-{ 1 } callf').body[0]).toMatchObject({ kind: 'function' });
    expect(parseArrow('$a').body).toEqual(parseArrow('<- $a').body.map((node) => ({ ...node, offset: 0 })));
    expect(parseArrow('<-\n  $a\n  default("b")\n').body).toHaveLength(2);
    expect(parseArrow('<-').body).toEqual([]);
  });
});

describe('parseArrow syntax errors', () => {
  it.each<[string, number, RegExp]>([
    ['<- "abc', 4, /unterminated string/],
    ["<- 'abc", 4, /unterminated string/],
    ['<- `abc', 4, /unterminated interpolated string/],
    ['<- `a ${b`', 7, /unterminated \$\{/],
    ['<- `${}`', 5, /empty \$\{\}/],
    ['<- `${a b}`', 7, /only a variable name or a literal/],
    ['<- $', 4, /expected a variable name/],
    ['<- $1a', 4, /expected a variable name/],
    ['<- 12abc', 4, /invalid number/],
    ['<- 0b102', 4, /invalid number/],
    ['<- 089', 4, /invalid octal/],
    ['<- 1e999', 4, /out of range/],
    ['<- concat(', 10, /missing \)/],
    ['<- f(1,,2)', 8, /empty argument/],
    ['<- [1, 2', 4, /missing \]/],
    ['<- {a 1}', 7, /expected :/],
    ['<- {a: }', 7, /missing object value/],
    ['<- {[1]: 2}', 5, /object key/],
    ['<- "a""b"', 7, /expected whitespace/],
    ['<- $a)', 6, /unexpected character "\)"/],
    ['<- #', 4, /unexpected character "#"/],
    ['<- "\\x4"', 5, /hexadecimal escape/],
    ['<- "\\u{110000}"', 5, /unicode escape/],
    ['<- <-{ 1', 4, /missing \} of function/],
  ])('%s fails at column %i', (source, column, message) => {
    const error = syntaxError(source);
    expect(error.code).toBe('ARROW_SYNTAX');
    expect(error.message).toMatch(message);
    expect(error.details).toMatchObject({ column, line: 1, expression: source });
    expect(error.location).toEqual(location);
    expect(error.message).toContain('kit.yaml:7:12 (app/variables/x)');
  });

  it('reports the line and column inside a multi-line expression', () => {
    const error = syntaxError('<- $a\n  "b\n');
    expect(error.details).toMatchObject({ line: 2, column: 3 });
  });

  it('rejects huge and deeply nested input cleanly', () => {
    expect(syntaxError(`<- "${'x'.repeat(maxArrowSourceLength)}"`).message).toMatch(/longer than/);
    expect(syntaxError(`<- ${'['.repeat(100)}${']'.repeat(100)}`).message).toMatch(/nesting deeper than/);
    expect(syntaxError(`<- ${'f('.repeat(100)}1${')'.repeat(100)}`).message).toMatch(/nesting deeper than/);
  });
});

describe('parseTemplate', () => {
  it('takes text literally without escapes', () => {
    expect(parseTemplate('a\\n${b}', { escapes: false })).toEqual([
      { kind: 'text', text: 'a\\n' },
      { kind: 'variable', name: 'b', offset: 5 },
    ]);
  });
});
