import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command, Flags } from '@oclif/core';
import { formatLocation, MonkError, toMonkError } from '@monk/model';
import { createMonkClient, createUnixSocketTransport, type MonkClient } from '@monk/sdk';
import { exitCodeFor } from './exit-codes.ts';

/** Where the CLI looks for monkd: --socket, then MONK_SOCKET, then $MONK_HOME/monkd.sock, then ~/.monk. */
export function defaultSocketPath(env: NodeJS.ProcessEnv): string {
  if (env['MONK_SOCKET'] !== undefined && env['MONK_SOCKET'] !== '') return env['MONK_SOCKET'];
  const home =
    env['MONK_HOME'] !== undefined && env['MONK_HOME'] !== '' ? env['MONK_HOME'] : join(homedir(), '.monk');
  return join(home, 'monkd.sock');
}

/**
 * The base of every monk command: `--socket`, `--json` (oclif prints what `run` returns), and one place
 * that turns MonkErrors into a message and a stable exit code.
 */
export abstract class MonkCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    socket: Flags.string({
      description: 'path of the monkd control socket (default: $MONK_SOCKET or ~/.monk/monkd.sock)',
      helpGroup: 'GLOBAL',
    }),
  };

  private clientInstance: MonkClient | undefined;

  protected client(): MonkClient {
    if (this.clientInstance !== undefined) return this.clientInstance;
    const path = socketFlag(this.argv) ?? defaultSocketPath(process.env);
    this.clientInstance = createMonkClient({ transport: createUnixSocketTransport({ path }) });
    return this.clientInstance;
  }

  protected override async catch(
    error: Error & { exitCode?: number; oclif?: { exit?: number } },
  ): Promise<unknown> {
    // oclif's own errors (bad flags, exit()) keep their behaviour.
    if (!(error instanceof MonkError) && error.oclif !== undefined) return super.catch(error);
    const monkError = toMonkError(error);
    const exitCode = exitCodeFor(monkError.code);
    if (this.jsonEnabled()) {
      this.logJson({ error: monkError.toJSON() });
    } else {
      const where = monkError.location === undefined ? '' : `\n  at ${formatLocation(monkError.location)}`;
      const hint =
        monkError.code === 'INTERNAL'
          ? '\n  This is a bug in monk. Please report it with the command you ran and the monkd log.'
          : '';
      process.stderr.write(`Error [${monkError.code}]: ${monkError.message}${where}${hint}\n`);
    }
    process.exitCode = exitCode;
    return this.exit(exitCode);
  }
}

/** The value of `--socket` in argv (`--socket PATH` or `--socket=PATH`), read before a command's own parse. */
export function socketFlag(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') return undefined;
    if (arg === '--socket') return argv[i + 1];
    if (arg.startsWith('--socket=')) return arg.slice('--socket='.length);
  }
  return undefined;
}

/** Parses repeated `--set ns/runnable/var=value` flags. */
export function parseSetFlags(values: readonly string[] | undefined): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const entry of values ?? []) {
    const eq = entry.indexOf('=');
    if (eq <= 0)
      throw new MonkError('INVALID_REQUEST', `--set ${entry}: expected name=value or ns/runnable/name=value`);
    variables[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return variables;
}
