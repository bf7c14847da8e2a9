import { join } from 'node:path';
import { Command, Flags } from '@oclif/core';
import { MonkError, toMonkError } from '@monk/model';
import { createMonkClient, createUnixSocketTransport, type MonkClient } from '@monk/sdk';
import { createContextStore, type ContextStore } from './context/context-store.ts';
import { monkHome, readCurrentContextName } from './context/monk-home.ts';
import { createContextTransport } from './context/context-transport.ts';
import { flagValue, selectTarget, type ControlTarget } from './context/control-target.ts';
import type { DisposableTransport } from './context/p2p-transport.ts';
import { reportError } from './error-report.ts';

/** Where the CLI looks for monkd: --socket, then MONK_SOCKET, then $MONK_HOME/monkd.sock, then ~/.monk. */
export function defaultSocketPath(env: NodeJS.ProcessEnv): string {
  if (env['MONK_SOCKET'] !== undefined && env['MONK_SOCKET'] !== '') return env['MONK_SOCKET'];
  return join(monkHome(env), 'monkd.sock');
}

/**
 * The base of every monk command: `--socket`, `--cluster`, `--json` (oclif prints what `run` returns), and
 * one place that turns MonkErrors into a message and a stable exit code. Calls go to the target chosen by
 * {@link selectTarget}: a local monkd's socket or a cluster through an operator context.
 */
export abstract class MonkCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    socket: Flags.string({
      description: 'path of the monkd control socket (default: $MONK_SOCKET or ~/.monk/monkd.sock)',
      helpGroup: 'GLOBAL',
    }),
    cluster: Flags.string({
      description:
        'operator context to use for this command (default: the current one; see monk cluster contexts)',
      helpGroup: 'GLOBAL',
    }),
  };

  private clientInstance: MonkClient | undefined;
  private targetInstance: ControlTarget | undefined;
  private transportInstance: DisposableTransport | undefined;
  /** Set by commands that start a libp2p node themselves (see `finally`). */
  protected startedLibp2p = false;

  /** Where this command's calls go; the same answer for every command run with the same settings. */
  protected target(): ControlTarget {
    const home = monkHome(process.env);
    this.targetInstance ??= selectTarget({
      socket: socketFlag(this.argv),
      cluster: clusterFlag(this.argv),
      env: process.env,
      home,
      currentContext: () => readCurrentContextName(home),
    });
    return this.targetInstance;
  }

  /** The operator contexts of this machine (`$MONK_HOME/contexts`). */
  protected contexts(): ContextStore {
    return createContextStore({ home: monkHome(process.env) });
  }

  protected client(): MonkClient {
    if (this.clientInstance !== undefined) return this.clientInstance;
    const target = this.target();
    if (target.kind === 'socket') {
      this.clientInstance = createMonkClient({ transport: createUnixSocketTransport({ path: target.path }) });
    } else {
      this.transportInstance = createContextTransport({ store: this.contexts(), name: target.name });
      this.clientInstance = createMonkClient({ transport: this.transportInstance });
    }
    return this.clientInstance;
  }

  /** Stops the libp2p node of an operator context before the process exits. */
  protected override async finally(error: Error | undefined): Promise<unknown> {
    await this.transportInstance?.dispose();
    if (this.transportInstance !== undefined || this.startedLibp2p) {
      // A stopped libp2p node still holds ~1 s of debounce timers; once oclif has written the output (it
      // does so right after this hook), nothing is left to do, so do not wait for them. Unref'd: a process
      // that is already done exits without it.
      setTimeout(() => process.exit(), 100).unref();
    }
    return super.finally(error);
  }

  protected override async catch(
    error: Error & { exitCode?: number; oclif?: { exit?: number } },
  ): Promise<unknown> {
    // oclif's own errors (bad flags, exit()) keep their behaviour.
    if (!(error instanceof MonkError) && error.oclif !== undefined) return super.catch(error);
    const report = reportError(toMonkError(error));
    if (this.jsonEnabled()) this.logJson(report.json);
    else process.stderr.write(report.text);
    process.exitCode = report.exitCode;
    return this.exit(report.exitCode);
  }
}

/** The value of `--socket` in argv (`--socket PATH` or `--socket=PATH`), read before a command's own parse. */
export function socketFlag(argv: readonly string[]): string | undefined {
  return flagValue(argv, 'socket');
}

/** The value of `--cluster` in argv (`--cluster NAME` or `--cluster=NAME`), read before a command's own parse. */
export function clusterFlag(argv: readonly string[]): string | undefined {
  return flagValue(argv, 'cluster');
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
