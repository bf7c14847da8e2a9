import { describe, expect, it } from 'vitest';
import { parseSecretAssignments } from './secret-assignments.ts';

describe('parseSecretAssignments', () => {
  it.each<[string[], Array<[string, string, boolean]>]>([
    [['db-password', 's3cret'], [['db-password', 's3cret', false]]],
    [['db-password', '-'], [['db-password', '-', true]]],
    [['db-password=s3cret'], [['db-password', 's3cret', false]]],
    [
      ['a=1', 'b=x=y', 'c='],
      [
        ['a', '1', false],
        ['b', 'x=y', false],
        ['c', '', false],
      ],
    ],
    [
      ['a=1', 'b=-'],
      [
        ['a', '1', false],
        ['b', '-', true],
      ],
    ],
    [
      ['a=1', 'b=2'],
      [
        ['a', '1', false],
        ['b', '2', false],
      ],
    ],
  ])('%j', (argv, expected) => {
    expect(parseSecretAssignments(argv).map((entry) => [entry.name, entry.value, entry.fromStdin])).toEqual(
      expected,
    );
  });

  it.each<[string[], string]>([
    [[], 'no secret given'],
    [['token'], '"token" is not NAME=VALUE'],
    [['a=1', 'b'], '"b" is not NAME=VALUE'],
    [['=1'], 'a secret needs a name'],
    [['a=-', 'b=-'], 'only one secret can read its value from standard input'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseSecretAssignments(argv)).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
    expect(() => parseSecretAssignments(argv)).toThrow(message);
  });
});
