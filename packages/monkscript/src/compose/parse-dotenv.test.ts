import { describe, expect, it } from 'vitest';
import { parseDotenv } from './parse-dotenv.ts';

describe('parseDotenv', () => {
  it('reads the forms Compose reads', () => {
    const text = [
      '# a comment',
      '',
      'PLAIN=value',
      'export EXPORTED=yes',
      'SPACED = around  ',
      'COMMENTED=value # a comment',
      'HASH=172.20.0.2#5054',
      "SINGLE='${PLAIN} stays'",
      'DOUBLE="${PLAIN}\\nnext \\"q\\" \\$x"',
      'MULTI="one',
      'two"',
      'REF=${PLAIN}-${OUTER:-d}',
      'EMPTY=',
      'FROM_OUTSIDE',
      'NOT_OUTSIDE',
    ].join('\n');
    expect(
      parseDotenv(text, { lookup: (name) => (name === 'FROM_OUTSIDE' ? 'outside' : undefined) }),
    ).toEqual({
      PLAIN: 'value',
      EXPORTED: 'yes',
      SPACED: 'around',
      COMMENTED: 'value',
      HASH: '172.20.0.2#5054',
      SINGLE: '${PLAIN} stays',
      DOUBLE: 'value\nnext "q" $x',
      MULTI: 'one\ntwo',
      REF: 'value-d',
      EMPTY: '',
      FROM_OUTSIDE: 'outside',
    });
  });

  it('takes values literally in raw format', () => {
    expect(parseDotenv('A="${B}" # x', { raw: true })).toEqual({ A: '"${B}" # x' });
  });

  it('keeps a __proto__ key as data', () => {
    const result = parseDotenv('__proto__=x\nA=1');
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result)).toEqual(['__proto__', 'A']);
  });

  it.each([
    ['=value', 'env.txt:1'],
    ['OK=1\nA="open', 'env.txt:2'],
    ['1BAD=x', 'env.txt:1'],
  ])('rejects %j naming the line', (text, where) => {
    expect(() => parseDotenv(text, { file: 'env.txt' })).toThrow(
      expect.objectContaining({
        code: 'COMPOSE_INVALID',
        message: expect.stringContaining(where) as unknown,
      }),
    );
  });
});
