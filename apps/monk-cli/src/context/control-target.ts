import { join } from 'node:path';
import { MonkError } from '@monk/model';

/**
 * Where a command's calls go: a local monkd's unix socket, or a cluster through an operator context. `from`
 * says which setting chose it, for `monk info` and error messages.
 */
export type ControlTarget =
  | { readonly kind: 'socket'; readonly path: string; readonly from: 'flag' | 'env' | 'default' }
  | { readonly kind: 'context'; readonly name: string; readonly from: 'flag' | 'current' };

export interface SelectTargetOptions {
  /** `--socket` from argv. */
  readonly socket: string | undefined;
  /** `--cluster` from argv. */
  readonly cluster: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  /** `$MONK_HOME` (or `~/.monk`). */
  readonly home: string;
  /** Reads the current context's name; called only when nothing else decides. */
  readonly currentContext: () => string | undefined;
}

/**
 * Picks the target, most explicit first: `--socket`, `--cluster`, `$MONK_SOCKET`, the current context, then
 * the default socket `$MONK_HOME/monkd.sock`. Flags beat the environment, and the environment beats the
 * current-context file. Throws `INVALID_REQUEST` when both `--socket` and `--cluster` are given.
 *
 * @example
 * selectTarget({ socket: undefined, cluster: 'prod', env: process.env, home, currentContext: () => undefined });
 * // { kind: 'context', name: 'prod', from: 'flag' }
 */
export function selectTarget(options: SelectTargetOptions): ControlTarget {
  const { socket, cluster, env } = options;
  if (socket !== undefined && cluster !== undefined) {
    throw new MonkError(
      'INVALID_REQUEST',
      '--socket and --cluster both say where to send the command; give one of them',
    );
  }
  if (socket !== undefined) return { kind: 'socket', path: socket, from: 'flag' };
  if (cluster !== undefined) return { kind: 'context', name: cluster, from: 'flag' };
  const envSocket = env['MONK_SOCKET'];
  if (envSocket !== undefined && envSocket !== '') return { kind: 'socket', path: envSocket, from: 'env' };
  const current = options.currentContext();
  if (current !== undefined) return { kind: 'context', name: current, from: 'current' };
  return { kind: 'socket', path: join(options.home, 'monkd.sock'), from: 'default' };
}

/** One line for people: `prod (operator context)` or `local monkd at /root/.monk/monkd.sock`. */
export function describeTarget(target: ControlTarget): string {
  switch (target.kind) {
    case 'socket': {
      const why = target.from === 'flag' ? ' (--socket)' : target.from === 'env' ? ' ($MONK_SOCKET)' : '';
      return `local monkd at ${target.path}${why}`;
    }
    case 'context':
      return `${target.name} (operator${target.from === 'flag' ? ', --cluster' : ''})`;
    default: {
      const unknown: never = target;
      return unknown;
    }
  }
}

/** The value of `--NAME VALUE` or `--NAME=VALUE` in argv, read before a command's own parse; stops at `--`. */
export function flagValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') return undefined;
    if (arg === `--${name}`) return argv[i + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}
