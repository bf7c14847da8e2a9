import { formatLocation, type MonkError, type SerializedError } from '@monk/model';
import { exitCodeFor } from './exit-codes.ts';

/** What `monk` prints for a failed command, and the exit code it ends with. */
export interface ErrorReport {
  readonly exitCode: number;
  /** With `--json`: the `{ error }` object printed on stdout. */
  readonly json: { error: SerializedError };
  /** Without `--json`: the message printed on stderr, ending in a newline. */
  readonly text: string;
}

/**
 * How every command reports a MonkError: `Error [CODE]: message`, where in a file it happened, and for
 * `INTERNAL` how to report the bug; the exit code comes from exit-codes.ts. Shared by MonkCommand and the
 * fast path of src/fast-commands.ts so that both answer alike.
 */
export function reportError(error: MonkError): ErrorReport {
  const where = error.location === undefined ? '' : `\n  at ${formatLocation(error.location)}`;
  const hint =
    error.code === 'INTERNAL'
      ? '\n  This is a bug in monk. Please report it with the command you ran and the monkd log.'
      : '';
  return {
    exitCode: exitCodeFor(error.code),
    json: { error: error.toJSON() },
    text: `Error [${error.code}]: ${error.message}${where}${hint}\n`,
  };
}
