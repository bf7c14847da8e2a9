import { toMonkError } from '@monk/model';
import { createMonkClient, createUnixSocketTransport, type PeerEntry, type PsEntry } from '@monk/sdk';
import { renderPeers } from './commands/cluster-format.ts';
import { selectTarget } from './context/control-target.ts';
import { monkHome, readCurrentContextName } from './context/monk-home.ts';
import { reportError } from './error-report.ts';
import { renderPs } from './render.ts';

// The commands people type most to look at a cluster answer without loading oclif (about 150 ms of start-up
// on its own) or any zod schema: argv is matched here against exactly the flags they take, and anything
// else (help, a typo, an operator context reached over libp2p) goes to oclif, which answers as it always
// did. Output, `--json` and exit codes are the same as the oclif commands' (src/commands/ps.ts,
// src/commands/cluster-peers.ts), which stay the reference and serve every other case.

/** The argv of a fast command once matched: its flags and where the call goes. */
export interface FastInvocation {
  readonly id: FastCommandId;
  readonly json: boolean;
  /** `-a`/`--all` of `monk ps`. */
  readonly all: boolean;
  /** `--socket PATH`, if given. */
  readonly socket: string | undefined;
}

export type FastCommandId = 'ps' | 'cluster:peers';

/** The words of each fast command, and its boolean flags besides `--json` (long name → short). */
const fastCommands: Record<FastCommandId, { words: readonly string[]; booleans: readonly string[] }> = {
  ps: { words: ['ps'], booleans: ['--all', '-a'] },
  'cluster:peers': { words: ['cluster', 'peers'], booleans: [] },
};

/**
 * Matches argv against the fast commands. Undefined when argv is anything else, including help, an unknown
 * flag, a flag given twice, or `--cluster` (an operator context, which needs the full command).
 *
 * @example
 * matchFastCommand(['ps', '-a', '--json']); // { id: 'ps', json: true, all: true, socket: undefined }
 * matchFastCommand(['ps', '--help']); // undefined
 */
export function matchFastCommand(argv: readonly string[]): FastInvocation | undefined {
  for (const [id, spec] of Object.entries(fastCommands) as [
    FastCommandId,
    (typeof fastCommands)[FastCommandId],
  ][]) {
    if (!spec.words.every((word, i) => argv[i] === word)) continue;
    let json = false;
    let all = false;
    let socket: string | undefined;
    const rest = argv.slice(spec.words.length);
    for (let i = 0; i < rest.length; i++) {
      const arg = rest[i] ?? '';
      if (arg === '--json' && !json) json = true;
      else if (spec.booleans.includes(arg) && !all) all = true;
      else if (arg === '--socket' && socket === undefined && i + 1 < rest.length && !isFlag(rest[i + 1])) {
        socket = rest[++i];
      } else if (arg.startsWith('--socket=') && socket === undefined && arg.length > '--socket='.length) {
        socket = arg.slice('--socket='.length);
      } else return undefined;
    }
    return { id, json, all, socket };
  }
  return undefined;
}

function isFlag(arg: string | undefined): boolean {
  return arg === undefined || arg.startsWith('-');
}

/** Where the fast path writes; process.stdout/stderr in the CLI, buffers in tests. */
export interface FastOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

/**
 * Runs a matched fast command against a local monkd and returns the exit code, or undefined when the call
 * would go through an operator context (the caller then runs the oclif command instead).
 */
export async function runFastCommand(
  invocation: FastInvocation,
  options: { env: NodeJS.ProcessEnv; output: FastOutput; now: () => Date },
): Promise<number | undefined> {
  const { env, output } = options;
  // MONK_CONTENT_TYPE=json is oclif's other way to ask for --json; leave it to oclif.
  if (env['MONK_CONTENT_TYPE'] !== undefined) return undefined;
  try {
    const home = monkHome(env);
    const target = selectTarget({
      socket: invocation.socket,
      cluster: undefined,
      env,
      home,
      currentContext: () => readCurrentContextName(home),
    });
    if (target.kind !== 'socket') return undefined;
    const client = createMonkClient({ transport: createUnixSocketTransport({ path: target.path }) });
    if (invocation.id === 'ps') {
      const entries: PsEntry[] = await client.ps({ all: invocation.all });
      if (invocation.json) output.stdout(`${JSON.stringify(entries, null, 2)}\n`);
      else output.stdout(`${renderPs(entries)}\n`);
    } else {
      const peers = (await client.call('cluster.peers', {})) as PeerEntry[];
      if (invocation.json) output.stdout(`${JSON.stringify(peers, null, 2)}\n`);
      else output.stdout(`${renderPeers(peers, options.now())}\n`);
    }
    return 0;
  } catch (error) {
    const report = reportError(toMonkError(error));
    if (invocation.json) output.stdout(`${JSON.stringify(report.json, null, 2)}\n`);
    else output.stderr(report.text);
    return report.exitCode;
  }
}
