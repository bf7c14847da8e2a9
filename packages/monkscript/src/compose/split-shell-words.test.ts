import { describe, expect, it } from 'vitest';
import { splitShellWords } from './split-shell-words.ts';

describe('splitShellWords', () => {
  it.each([
    ['', []],
    ['   ', []],
    ['echo hello', ['echo', 'hello']],
    ['  a \t b\nc  ', ['a', 'b', 'c']],
    [`sh -c 'echo "a b"'`, ['sh', '-c', 'echo "a b"']],
    [`echo "a \\"b\\" c"`, ['echo', 'a "b" c']],
    [`echo "keep \\n and \\$HOME"`, ['echo', 'keep \\n and $HOME']],
    [`echo 'no \\escape'`, ['echo', 'no \\escape']],
    ['a\\ b c', ['a b', 'c']],
    [`""`, ['']],
    [`x''y`, ['xy']],
    [
      '--providers.docker --entrypoints.web.address=:80',
      ['--providers.docker', '--entrypoints.web.address=:80'],
    ],
    ['$HOME ${VAR}', ['$HOME', '${VAR}']],
    ['trailing\\', ['trailing\\']],
    ['line\\\ncontinued', ['linecontinued']],
  ])('splits %j', (input, expected) => {
    expect(splitShellWords(input)).toEqual(expected);
  });

  it.each([`echo 'open`, `echo "open`, `"a\\"`])('rejects the unterminated quote in %j', (input) => {
    expect(() => splitShellWords(input)).toThrow(expect.objectContaining({ code: 'COMPOSE_INVALID' }));
  });
});
