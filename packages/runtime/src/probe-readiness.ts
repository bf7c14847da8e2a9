import { request } from 'node:http';
import { connect } from 'node:net';
import type { ReadinessCheck } from '@monk/model';
import { MonkError } from '@monk/model';
import type { ContainerRuntime } from './container-runtime.ts';
import { isAborted } from './with-deadline.ts';

export interface ProbeReadinessOptions {
  readonly containerId: string;
  /** `exec`, `http` or `tcp`; `arrow` checks are evaluated by monkd and rejected here. */
  readonly check: ReadinessCheck;
  /** The network whose address `http`/`tcp` probes connect to. Default: the container's first one. */
  readonly network?: string;
  /** Aborting fails the probe with `CANCELLED`. */
  readonly signal?: AbortSignal;
}

export interface ProbeResult {
  readonly ready: boolean;
  /** What was tried and what answered, for `monk ps` and logs. */
  readonly message: string;
}

/**
 * Runs one attempt of a readiness check against a container, bounded by the check's `timeoutSeconds`
 * (delays, periods and attempts are the caller's loop). `exec` runs the command in the container (exit 0 is
 * ready); `http` GETs `path` on the container's IP from this host (2xx or 3xx is ready); `tcp` opens a
 * connection to the container's IP. A failing check is a not-ready result, never an error.
 *
 * Throws `INVALID_REQUEST` for an `arrow` check, `CANCELLED` when `signal` aborts, and what the runtime throws
 * for a missing container (`CONTAINER_NOT_FOUND`) or engine (`RUNTIME_UNAVAILABLE`).
 *
 * @example
 * const { ready, message } = await probeReadiness(runtime, {
 *   containerId: id,
 *   check: { kind: 'http', port: 8080, path: '/health', initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 2, attempts: 30 },
 * });
 */
export async function probeReadiness(
  runtime: ContainerRuntime,
  options: ProbeReadinessOptions,
): Promise<ProbeResult> {
  const { check } = options;
  const timeoutMs = check.timeoutSeconds * 1000;
  switch (check.kind) {
    case 'arrow':
      throw new MonkError(
        'INVALID_REQUEST',
        'arrow readiness checks are evaluated by monkd, not by the runtime probe',
        {
          details: { containerId: options.containerId },
        },
      );
    case 'exec':
      return probeExec(runtime, { ...options, command: check.command, timeoutMs });
    case 'http':
    case 'tcp': {
      const info = await runtime.inspectContainer(options.containerId);
      const address =
        options.network === undefined
          ? Object.values(info.ipAddresses)[0]
          : info.ipAddresses[options.network];
      if (address === undefined) {
        const on = options.network === undefined ? '' : ` on network ${options.network}`;
        return { ready: false, message: `container ${info.name} has no IP address${on} (is it running?)` };
      }
      const target = { host: address, port: check.port, timeoutMs, signal: options.signal };
      return check.kind === 'http' ? probeHttp(target, check.path) : probeTcp(target);
    }
  }
}

async function probeExec(
  runtime: ContainerRuntime,
  options: ProbeReadinessOptions & { command: readonly string[]; timeoutMs: number },
): Promise<ProbeResult> {
  const what = `exec ${options.command.join(' ')}`;
  try {
    const result = await runtime.exec(options.containerId, {
      command: options.command,
      timeoutMs: options.timeoutMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    if (result.exitCode === 0) return { ready: true, message: `${what} exited 0` };
    const said = (result.stderr.trim() || result.stdout.trim()).slice(-200);
    return { ready: false, message: `${what} exited ${result.exitCode}${said === '' ? '' : `: ${said}`}` };
  } catch (error) {
    if (error instanceof MonkError && error.code === 'TIMEOUT') {
      return { ready: false, message: `${what} did not finish within ${options.timeoutMs / 1000}s` };
    }
    if (error instanceof MonkError && error.code === 'NOT_RUNNING') {
      return { ready: false, message: `${what}: container is not running` };
    }
    throw error;
  }
}

interface Target {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  /** Prefix of failure messages: what was tried. */
  readonly label: string;
}

/** One deadline for the whole attempt (connect, headers); the caller's signal cancels instead. */
async function withTimeout(
  target: Target,
  attempt: (signal: AbortSignal) => Promise<ProbeResult>,
): Promise<ProbeResult> {
  if (isAborted(target.signal)) throw new MonkError('CANCELLED', 'readiness probe was cancelled');
  const timeout = AbortSignal.timeout(target.timeoutMs);
  const signal = target.signal === undefined ? timeout : AbortSignal.any([timeout, target.signal]);
  try {
    return await attempt(signal);
  } catch (error) {
    if (isAborted(target.signal)) {
      throw new MonkError('CANCELLED', 'readiness probe was cancelled', { cause: error });
    }
    if (timeout.aborted) {
      return { ready: false, message: `${target.label}: no answer within ${target.timeoutMs / 1000}s` };
    }
    const code = (error as { code?: unknown }).code;
    return { ready: false, message: `${target.label}: ${typeof code === 'string' ? code : String(error)}` };
  }
}

async function probeHttp(target: Omit<Target, 'label'>, requestPath: string): Promise<ProbeResult> {
  const path = requestPath.startsWith('/') ? requestPath : `/${requestPath}`;
  const url = `http://${target.host}:${target.port}${path}`;
  return withTimeout({ ...target, label: `GET ${url}` }, (signal) => {
    const { promise, resolve, reject } = Promise.withResolvers<ProbeResult>();
    const req = request(
      { host: target.host, port: target.port, path, method: 'GET', agent: false, signal },
      (res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        res.destroy();
        const ready = status >= 200 && status < 400;
        resolve({ ready, message: `GET ${url} answered ${status}` });
      },
    );
    req.on('error', reject);
    req.end();
    return promise;
  });
}

async function probeTcp(target: Omit<Target, 'label'>): Promise<ProbeResult> {
  const where = `tcp ${target.host}:${target.port}`;
  return withTimeout({ ...target, label: where }, (signal) => {
    const { promise, resolve, reject } = Promise.withResolvers<ProbeResult>();
    const socket = connect({ host: target.host, port: target.port, signal });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ready: true, message: `${where} accepted a connection` });
    });
    socket.once('error', reject);
    return promise;
  });
}
