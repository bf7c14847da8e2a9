import { MonkError } from '@monk/model';

/** One secret to store, as the command line gave it; `fromStdin` when its value is `-`. */
export interface SecretAssignment {
  readonly name: string;
  readonly value: string;
  readonly fromStdin: boolean;
}

/**
 * The secrets `monk secrets add` stores, from its positional arguments: Monk's `NAME=VALUE …` (one or
 * more) or this CLI's `NAME VALUE`. A value of `-` reads standard input; at most one value may.
 *
 * @throws MonkError `INVALID_REQUEST` naming what is wrong (no arguments, a pair without `=`, an empty name,
 *   two values from standard input).
 * @example
 * parseSecretAssignments(['db-password=s3cret', 'token=-']);
 * // [{ name: 'db-password', value: 's3cret', fromStdin: false }, { name: 'token', value: '-', fromStdin: true }]
 */
export function parseSecretAssignments(argv: readonly string[]): SecretAssignment[] {
  const usage = 'give NAME=VALUE (one or more) or NAME VALUE; VALUE - reads standard input';
  if (argv.length === 0) throw new MonkError('INVALID_REQUEST', `no secret given: ${usage}`);
  const [first = '', second] = argv;
  let pairs: Array<[string, string]>;
  if (argv.length === 2 && !first.includes('=') && second !== undefined) {
    pairs = [[first, second]];
  } else {
    pairs = argv.map((arg) => {
      const at = arg.indexOf('=');
      if (at === -1) throw new MonkError('INVALID_REQUEST', `"${arg}" is not NAME=VALUE: ${usage}`);
      return [arg.slice(0, at), arg.slice(at + 1)];
    });
  }
  const assignments = pairs.map(([name, value]) => {
    if (name === '') throw new MonkError('INVALID_REQUEST', `a secret needs a name: ${usage}`);
    return { name, value, fromStdin: value === '-' };
  });
  if (assignments.filter((assignment) => assignment.fromStdin).length > 1) {
    throw new MonkError('INVALID_REQUEST', 'only one secret can read its value from standard input (-)');
  }
  return assignments;
}
