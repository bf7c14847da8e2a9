import { execFile } from 'node:child_process';
import { MonkError } from '@monk/model';

/** A program and its arguments, run without a shell. Arguments never hold secrets (keys go through files). */
export interface Command {
  readonly file: string;
  readonly args: readonly string[];
}

/**
 * Runs host programs (`ip`, `wg`, `wireguard-go`, `nsenter`). The real one is {@link createExecFileRunner};
 * tests pass a recording twin and assert the command plan.
 */
export interface CommandRunner {
  /**
   * Runs the command to completion and returns what it printed on stdout.
   *
   * @throws MonkError `NETWORK_ERROR` when the program exits non-zero or cannot be started; the message names
   *   the command and carries its stderr.
   */
  run(command: Command): Promise<string>;
}

const packageOf: Readonly<Record<string, string>> = {
  ip: 'iproute2',
  wg: 'wireguard-tools',
  'wireguard-go': 'wireguard-go',
  nsenter: 'util-linux',
  env: 'coreutils',
  iptables: 'iptables',
};

/**
 * The real {@link CommandRunner}: `execFile`, no shell, a deadline per command.
 *
 * @example
 * const runner = createExecFileRunner();
 * await runner.run({ file: 'ip', args: ['-o', 'link', 'show'] });
 */
export function createExecFileRunner(options: { timeoutMs?: number } = {}): CommandRunner {
  const timeout = options.timeoutMs ?? 15_000;
  return {
    run: (command) =>
      new Promise((resolve, reject) => {
        execFile(
          command.file,
          [...command.args],
          { timeout, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
          (error, stdout, stderr) => {
            if (error === null) {
              resolve(stdout);
              return;
            }
            const text = [command.file, ...command.args].join(' ');
            const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
            const hint = packageOf[command.file];
            reject(
              new MonkError(
                'NETWORK_ERROR',
                missing
                  ? `${command.file} is not installed${hint === undefined ? '' : ` (apt-get install ${hint})`}`
                  : `${text} failed: ${stderr.trim() || error.message}`,
                {
                  cause: error,
                  details: {
                    command: text,
                    ...(typeof error.code === 'number' ? { exitCode: error.code } : {}),
                    stderr: stderr.trim(),
                  },
                },
              ),
            );
          },
        );
      }),
  };
}
