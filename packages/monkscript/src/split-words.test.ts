import { describe, expect, it } from 'vitest';
import { splitWords } from './split-words.ts';
import { coerceVariable } from './variable-types.ts';
import { thrown } from './test-support.ts';

describe('splitWords', () => {
  it('splits like a shell without expanding', () => {
    expect(splitWords(`/usr/bin/mongod --bind_ip_all  --replSet dbrs`)).toEqual([
      '/usr/bin/mongod',
      '--bind_ip_all',
      '--replSet',
      'dbrs',
    ]);
    expect(splitWords(`sh -c 'echo "$HOME"' "a b" c\\ d "x\\"y" ''`)).toEqual([
      'sh',
      '-c',
      'echo "$HOME"',
      'a b',
      'c d',
      'x"y',
      '',
    ]);
    expect(thrown(() => splitWords('say "hi')).code).toBe('TEMPLATE_INVALID');
  });
});

describe('coerceVariable', () => {
  it('converts to declared types and refuses what does not fit', () => {
    expect(coerceVariable({ name: 'a', type: 'string', value: 1 })).toBe('1');
    expect(coerceVariable({ name: 'a', type: 'string', value: false })).toBe('false');
    expect(coerceVariable({ name: 'a', type: 'int', value: '42' })).toBe(42);
    expect(coerceVariable({ name: 'a', type: 'float', value: '0.25' })).toBe(0.25);
    expect(coerceVariable({ name: 'a', type: 'bool', value: 'no' })).toBe(false);
    expect(coerceVariable({ name: 'a', type: 'bigint', value: '123456789012345678901' })).toBe(
      '123456789012345678901',
    );
    expect(coerceVariable({ name: 'a', type: undefined, value: [1] })).toEqual([1]);
    for (const [type, value] of [
      ['int', '1.5'],
      ['int', 'x'],
      ['float', ''],
      ['bool', 'maybe'],
      ['bigint', '1e3'],
    ] as const) {
      expect(thrown(() => coerceVariable({ name: 'a', type, value })).code).toBe('VARIABLE_INVALID');
    }
  });
});
