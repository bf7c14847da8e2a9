import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { MonkError } from '@monk/model';

const execFileAsync = promisify(execFile);

/**
 * The machine, as the local provider uses it: programs run to completion (`ip`, `iptables`, `umount`),
 * programs started detached (`nsenter … dockerd`, `nsenter … monkd`), processes, mounts and files. The real
 * one is {@link createHostSystem}; tests pass a recording fake and check the commands.
 */
export interface HostSystem {
  /** True when this process may create namespaces, bridges and engines (root). */
  isPrivileged(): boolean;
  /**
   * Runs `argv` to completion and resolves with its stdout. Rejects with `PROVIDER_ERROR` carrying the
   * command line and its stderr on a non-zero exit, and when the program does not exist.
   */
  run(argv: readonly string[]): Promise<string>;
  /**
   * Starts `argv` in its own session, detached from this process (it outlives it), stdout and stderr
   * appended to `logFile`. Resolves with its pid.
   */
  start(argv: readonly string[], options: { readonly logFile: string }): Promise<number>;
  /** Resolves once the unix socket at `path` accepts a connection; `TIMEOUT` after `timeoutMs`. */
  waitForSocket(path: string, timeoutMs: number): Promise<void>;
  /** The command line of a running process (arguments joined by spaces), undefined when there is none. */
  commandLine(pid: number): Promise<string | undefined>;
  /** An environment variable of a running process, undefined when unset or unreadable. */
  environment(pid: number, name: string): Promise<string | undefined>;
  /** Every process of the machine with its parent. */
  processes(): Promise<Array<{ readonly pid: number; readonly ppid: number }>>;
  /** Sends a signal; a process that is already gone is not an error. */
  signal(pid: number, signal: 'SIGTERM' | 'SIGKILL'): void;
  /** Every mount point of this mount namespace. */
  mountPoints(): Promise<string[]>;
  readText(path: string): Promise<string | undefined>;
  writeText(path: string, text: string): Promise<void>;
  /** Creates a file only when it does not exist yet; resolves false when it does (atomic across processes). */
  createExclusive(path: string, text: string): Promise<boolean>;
  removeFile(path: string): Promise<void>;
  makeDir(path: string): Promise<void>;
  removeDir(path: string): Promise<void>;
  listDir(path: string): Promise<string[]>;
  sleep(ms: number): Promise<void>;
}

/** The real {@link HostSystem}: `execFile`, detached `spawn`, /proc and the filesystem. */
export function createHostSystem(): HostSystem {
  return {
    isPrivileged: () => process.getuid?.() === 0,
    async run(argv) {
      const [file, ...args] = argv;
      if (file === undefined) throw new MonkError('INVALID_REQUEST', 'empty command');
      try {
        const { stdout } = await execFileAsync(file, args, { maxBuffer: 16 * 1024 * 1024 });
        return stdout;
      } catch (error) {
        const failure = error as NodeJS.ErrnoException & { stderr?: string };
        const why =
          failure.code === 'ENOENT'
            ? `${file} is not installed`
            : (failure.stderr ?? '').trim() || failure.message;
        throw new MonkError('PROVIDER_ERROR', `${argv.join(' ')}: ${why}`, {
          cause: error,
          details: { command: [...argv] },
        });
      }
    },
    async start(argv, options) {
      const [file, ...args] = argv;
      if (file === undefined) throw new MonkError('INVALID_REQUEST', 'empty command');
      const out = openSync(options.logFile, 'a', 0o600);
      try {
        const child = spawn(file, args, { detached: true, stdio: ['ignore', out, out] });
        const pid = await new Promise<number>((resolve, reject) => {
          child.once('spawn', () => resolve(child.pid ?? -1));
          child.once('error', (error) =>
            reject(new MonkError('PROVIDER_ERROR', `${file}: ${error.message}`, { cause: error })),
          );
        });
        child.unref();
        return pid;
      } finally {
        closeSync(out);
      }
    },
    async waitForSocket(path, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const ok = await new Promise<boolean>((resolve) => {
          const socket = connect(path);
          socket.once('connect', () => {
            socket.destroy();
            resolve(true);
          });
          socket.once('error', () => resolve(false));
        });
        if (ok) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new MonkError('TIMEOUT', `${path} did not accept connections within ${String(timeoutMs)} ms`);
    },
    async commandLine(pid) {
      const raw = await readFile(`/proc/${String(pid)}/cmdline`).catch(() => undefined);
      if (raw === undefined || raw.length === 0) return undefined;
      return raw.toString('utf8').split('\0').filter(Boolean).join(' ');
    },
    async environment(pid, name) {
      const raw = await readFile(`/proc/${String(pid)}/environ`).catch(() => undefined);
      const entry = raw
        ?.toString('utf8')
        .split('\0')
        .find((e) => e.startsWith(`${name}=`));
      return entry?.slice(name.length + 1);
    },
    async processes() {
      const entries = await readdir('/proc').catch(() => []);
      const found: Array<{ pid: number; ppid: number }> = [];
      for (const entry of entries) {
        if (!/^\d+$/.test(entry)) continue;
        const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => undefined);
        // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so read after the last ')'.
        const ppid = Number(stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (Number.isInteger(ppid)) found.push({ pid: Number(entry), ppid });
      }
      return found;
    },
    signal(pid, signal) {
      try {
        process.kill(pid, signal);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    },
    async mountPoints() {
      const text = await readFile('/proc/self/mountinfo', 'utf8');
      // Field 5 is the mount point, with spaces and the like escaped as octal (\040).
      return text
        .split('\n')
        .map((line) => line.split(' ')[4])
        .filter((p): p is string => p !== undefined)
        .map((p) =>
          p.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))),
        );
    },
    readText: (path) => readFile(path, 'utf8').catch(() => undefined),
    writeText: (path, text) => writeFile(path, text, { mode: 0o600 }),
    async createExclusive(path, text) {
      try {
        await writeFile(path, text, { mode: 0o600, flag: 'wx' });
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw error;
      }
    },
    removeFile: (path) => rm(path, { force: true }),
    makeDir: async (path) => {
      await mkdir(path, { recursive: true, mode: 0o700 });
    },
    removeDir: (path) => rm(path, { recursive: true, force: true }),
    listDir: (path) => readdir(path).catch(() => []),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}
