import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerSpec } from '@monk/model';
import { MonkError } from '@monk/model';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  ContainerInfo,
  ContainerRuntime,
  CreateContainerOptions,
  LogEntry,
  RuntimeEvent,
} from './container-runtime.ts';

/** The image every compliance test uses; the runtime under test must have it. */
export const complianceImage = 'monk-local/busybox:latest';

/**
 * The busybox programs the suite runs. A runtime that cannot run processes (the memory twin) scripts exactly
 * these through its test controls.
 */
export const complianceCommands = {
  /** Runs, silent, until stopped. */
  idle: ['sleep', '3600'],
  /** Prints out-1, err-1 (stderr), out-2, then runs until stopped. */
  chatty: ['sh', '-c', 'echo out-1; echo err-1 >&2; echo out-2; exec sleep 3600'],
  /** Prints bye and exits with 3. */
  exitThree: ['sh', '-c', 'echo bye; exit 3'],
  /** Exec: prints to-out, to-err (stderr), exits with 7. */
  execMixed: ['sh', '-c', 'echo to-out; echo to-err >&2; exit 7'],
  /** Exec: makes the container's main process print late-line (PID 1 is the init process). */
  printLate: ['sh', '-c', 'echo late-line > /proc/1/fd/1'],
  /** Exec: takes far longer than any test waits. */
  hang: ['sleep', '600'],
  /** Exec: copies stdin to stdout. */
  echoStdin: ['cat'],
  /** Exec: prints tty-out to stderr (a TTY session shows it on stdout). */
  ttyOut: ['sh', '-c', 'echo tty-out >&2'],
  /** Exec: prints a file. */
  cat: (path: string): string[] => ['cat', path],
  /** Exec: prints a file's permission bits in octal. */
  mode: (path: string): string[] => ['stat', '-c', '%a', path],
} as const;

export interface RuntimeComplianceOptions {
  /** Appended to every test name, e.g. ` (needs Docker)`. */
  readonly requirement?: string;
  /** A runtime for one test; called before each test. */
  readonly makeRuntime: () => ContainerRuntime;
}

const runLabel = 'monk.test.run';

/**
 * Defines the vitest suite every {@link ContainerRuntime} must pass. Each test labels what it creates with a
 * unique `monk.test.run` and removes it afterwards, networks included.
 *
 * @example
 * describeRuntimeCompliance('memory', { makeRuntime: () => createMemoryRuntime({ images: [complianceImage] }) });
 */
export function describeRuntimeCompliance(name: string, options: RuntimeComplianceOptions): void {
  const needs = options.requirement ?? '';

  describe(`${name} runtime compliance`, () => {
    let runtime: ContainerRuntime;
    let runId: string;
    let counter: number;
    let networks: string[];

    beforeEach(() => {
      runtime = options.makeRuntime();
      runId = `monk-test-${randomUUID().slice(0, 8)}`;
      counter = 0;
      networks = [];
    });

    afterEach(async () => {
      const leftovers = await runtime.listContainers({ all: true, labels: { [runLabel]: runId } });
      for (const container of leftovers) {
        await runtime.removeContainer(container.id, { force: true }).catch((error: unknown) => {
          if (!(error instanceof MonkError && error.code === 'CONTAINER_NOT_FOUND')) throw error;
        });
      }
      for (const network of networks) await runtime.removeNetwork(network);
    });

    const containerName = (): string => {
      counter += 1;
      return `${runId}-${counter}`;
    };

    const spec = (overrides: Partial<ContainerSpec> = {}): ContainerSpec => ({
      image: complianceImage,
      command: [...complianceCommands.idle],
      environment: {},
      ports: [],
      mounts: [],
      files: [],
      labels: {},
      ...overrides,
    });

    const create = (overrides: Partial<CreateContainerOptions> & { spec?: ContainerSpec } = {}) =>
      runtime.createContainer({
        name: containerName(),
        spec: spec(),
        ...overrides,
        labels: { [runLabel]: runId, ...overrides.labels },
      });

    const run = async (command: readonly string[]): Promise<ContainerInfo> => {
      const created = await create({ spec: spec({ command: [...command] }) });
      await runtime.startContainer(created.id);
      return created;
    };

    /** Polls `read` until `accept` holds, failing with the last value after the deadline. */
    const eventually = async <T>(read: () => Promise<T>, accept: (value: T) => boolean): Promise<T> => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const value = await read();
        if (accept(value)) return value;
        if (Date.now() > deadline) {
          throw new Error(`condition not met within 30 s; last value: ${JSON.stringify(value)}`);
        }
        await sleep(50);
      }
    };

    const collectLogs = async (id: string, logOptions: { tail?: number; timestamps?: boolean } = {}) => {
      const entries: LogEntry[] = [];
      for await (const entry of runtime.logs(id, logOptions)) entries.push(entry);
      return entries;
    };

    const expectCode = async (promise: Promise<unknown>, code: string): Promise<void> => {
      await expect(promise).rejects.toSatisfy((error) => error instanceof MonkError && error.code === code);
    };

    it(`reports its engine and version${needs}`, async () => {
      const info = await runtime.info();
      expect(info.engine).not.toBe('');
      expect(info.version).not.toBe('');
      expect(info.apiVersion).not.toBe('');
    });

    it(`creates, starts, inspects, stops and removes a container${needs}`, async () => {
      const name = containerName();
      const created = await runtime.createContainer({
        name,
        spec: spec({
          labels: { 'monk.test.from': 'spec', 'monk.test.both': 'spec' },
          environment: { A: '1' },
        }),
        labels: { [runLabel]: runId, 'monk.test.both': 'options' },
      });
      expect(created).toMatchObject({
        name,
        image: complianceImage,
        state: 'created',
        labels: { [runLabel]: runId, 'monk.test.from': 'spec', 'monk.test.both': 'options' },
      });
      expect(created.id).toMatch(/^[0-9a-f]{64}$/);
      expect(Number.isNaN(Date.parse(created.createdAt))).toBe(false);
      expect(created.startedAt).toBeUndefined();

      await runtime.startContainer(created.id);
      await runtime.startContainer(created.id);
      const running = await runtime.inspectContainer(name);
      expect(running).toMatchObject({ id: created.id, state: 'running' });
      expect(Number.isNaN(Date.parse(running.startedAt ?? ''))).toBe(false);
      expect(Object.values(running.ipAddresses).length).toBeGreaterThan(0);
      expect(running.exitCode).toBeUndefined();

      await runtime.stopContainer(created.id, { timeoutSeconds: 5 });
      await runtime.stopContainer(created.id, { timeoutSeconds: 5 });
      const stopped = await runtime.inspectContainer(created.id);
      expect(stopped.state).toBe('exited');
      expect(typeof stopped.exitCode).toBe('number');
      expect(Number.isNaN(Date.parse(stopped.finishedAt ?? ''))).toBe(false);

      await runtime.removeContainer(created.id);
      await expectCode(runtime.inspectContainer(created.id), 'CONTAINER_NOT_FOUND');
    });

    it(`reads the counters of a running container, and refuses a stopped one${needs}`, async () => {
      const container = await run(complianceCommands.idle);
      const first = await runtime.stats(container.id);
      expect(Number.isNaN(Date.parse(first.readAt))).toBe(false);
      expect(first.memoryBytes).toBeGreaterThan(0);
      expect(first.memoryLimitBytes).toBeGreaterThanOrEqual(first.memoryBytes);
      expect(first.onlineCpus).toBeGreaterThanOrEqual(1);
      expect(first.systemCpuNanos).toBeGreaterThan(0);
      for (const counter of [first.cpuNanos, first.networkRxBytes, first.networkTxBytes]) {
        expect(counter).toBeGreaterThanOrEqual(0);
      }
      const second = await eventually(
        () => runtime.stats(container.id),
        (next) => next.systemCpuNanos > first.systemCpuNanos,
      );
      expect(second.cpuNanos).toBeGreaterThanOrEqual(first.cpuNanos);

      await runtime.stopContainer(container.id, { timeoutSeconds: 1 });
      await expectCode(runtime.stats(container.id), 'NOT_RUNNING');
      await expectCode(runtime.stats(`${runId}-missing`), 'CONTAINER_NOT_FOUND');
    });

    it(`lists containers by label, running ones unless all${needs}`, async () => {
      const started = await run(complianceCommands.idle);
      const createdOnly = await create();
      await create({ labels: { 'monk.test.group': 'other' } });
      const group = { [runLabel]: runId };

      const running = await runtime.listContainers({ labels: group });
      expect(running.map((c) => c.id)).toEqual([started.id]);
      expect(running[0]?.state).toBe('running');

      const all = await runtime.listContainers({ all: true, labels: group });
      expect(all).toHaveLength(3);
      expect(all.map((c) => c.id)).toEqual(expect.arrayContaining([started.id, createdOnly.id]));

      const other = await runtime.listContainers({
        all: true,
        labels: { ...group, 'monk.test.group': 'other' },
      });
      expect(other).toHaveLength(1);
    });

    it(`fails with IMAGE_NOT_FOUND for a missing image, keeping the engine's message${needs}`, async () => {
      const image = `monk-local/missing-${runId}:latest`;
      expect(await runtime.hasImage(image)).toBe(false);
      expect(await runtime.hasImage(complianceImage)).toBe(true);
      const failure = create({ spec: spec({ image }) });
      await expectCode(failure, 'IMAGE_NOT_FOUND');
      await expect(failure).rejects.toThrow(/no such image|not found|pull access/i);
    });

    it(`fails with CONTAINER_NOT_FOUND for a missing container${needs}`, async () => {
      const missing = `${runId}-missing`;
      await expectCode(runtime.inspectContainer(missing), 'CONTAINER_NOT_FOUND');
      await expectCode(runtime.startContainer(missing), 'CONTAINER_NOT_FOUND');
      await expectCode(runtime.stopContainer(missing), 'CONTAINER_NOT_FOUND');
      await expectCode(runtime.removeContainer(missing, { force: true }), 'CONTAINER_NOT_FOUND');
      await expectCode(
        runtime.putFiles(missing, [{ path: '/a', contents: 'a', mode: 0o644 }]),
        'CONTAINER_NOT_FOUND',
      );
      await expectCode(runtime.exec(missing, { command: ['true'] }), 'CONTAINER_NOT_FOUND');
      await expectCode(collectLogs(missing), 'CONTAINER_NOT_FOUND');
    });

    it(`refuses a taken name and removing a running container without force${needs}`, async () => {
      const started = await run(complianceCommands.idle);
      await expectCode(create({ name: started.name }), 'RUNTIME_ERROR');
      await expectCode(runtime.removeContainer(started.id), 'RUNTIME_ERROR');
      await runtime.removeContainer(started.id, { force: true });
      await expectCode(runtime.removeContainer(started.id, { force: true }), 'CONTAINER_NOT_FOUND');
    });

    it(`emits create, start and die (with the exit code) events for labelled containers${needs}`, async () => {
      const controller = new AbortController();
      const events = runtime.events({ signal: controller.signal, labels: { [runLabel]: runId } });
      const created = await run(complianceCommands.exitThree);
      const seen: RuntimeEvent[] = [];
      for await (const event of events) {
        seen.push(event);
        if (event.type === 'die') controller.abort();
      }
      expect(seen.map((event) => event.type)).toEqual(['create', 'start', 'die']);
      expect(seen.every((event) => event.containerId === created.id)).toBe(true);
      expect(seen[2]?.exitCode).toBe(3);
      expect(seen[0]?.labels[runLabel]).toBe(runId);
      expect(Number.isNaN(Date.parse(seen[0]?.time ?? ''))).toBe(false);
      const exited = await eventually(
        () => runtime.inspectContainer(created.id),
        (info) => info.state === 'exited',
      );
      expect(exited.exitCode).toBe(3);
    });

    it(`ends the event stream when its signal aborts${needs}`, async () => {
      const controller = new AbortController();
      const events = runtime.events({ signal: controller.signal, labels: { [runLabel]: runId } });
      const iterator = events[Symbol.asyncIterator]();
      const next = iterator.next();
      controller.abort();
      await expect(next).resolves.toEqual({ done: true, value: undefined });
    });

    it(`returns demultiplexed log lines, with tail and timestamps${needs}`, async () => {
      const container = await run(complianceCommands.chatty);
      const entries = await eventually(
        () => collectLogs(container.id),
        (found) => found.length >= 3,
      );
      expect(entries.filter((e) => e.stream === 'stdout').map((e) => e.line)).toEqual(['out-1', 'out-2']);
      expect(entries.filter((e) => e.stream === 'stderr').map((e) => e.line)).toEqual(['err-1']);
      expect(entries.every((e) => e.time === undefined)).toBe(true);

      // stdout and stderr are separate pipes: which line the engine received last is not fixed.
      const last = await collectLogs(container.id, { tail: 1 });
      expect(last).toHaveLength(1);
      expect(entries).toContainEqual(last[0]);

      const stamped = await collectLogs(container.id, { timestamps: true });
      expect(stamped.map((e) => e.line).sort()).toEqual(['err-1', 'out-1', 'out-2']);
      expect(stamped.every((e) => !Number.isNaN(Date.parse(e.time ?? '')))).toBe(true);
    });

    it(`follows logs until the signal aborts${needs}`, async () => {
      const container = await run(complianceCommands.chatty);
      const controller = new AbortController();
      const following = runtime.logs(container.id, { follow: true, signal: controller.signal });
      const iterator = following[Symbol.asyncIterator]();
      const lines: string[] = [];
      while (!lines.includes('out-2')) {
        const next = await iterator.next();
        if (next.done === true) throw new Error(`log stream ended early after ${lines.join(', ')}`);
        lines.push(next.value.line);
      }
      await runtime.exec(container.id, { command: complianceCommands.printLate });
      while (!lines.includes('late-line')) {
        const next = await iterator.next();
        if (next.done === true) throw new Error(`log stream ended early after ${lines.join(', ')}`);
        lines.push(next.value.line);
      }
      expect(lines.sort()).toEqual(['err-1', 'late-line', 'out-1', 'out-2']);
      const pending = iterator.next();
      controller.abort();
      await expect(pending).resolves.toMatchObject({ done: true });
    });

    it(`ends a log follow when the container stops${needs}`, async () => {
      const container = await run(complianceCommands.chatty);
      await eventually(
        () => collectLogs(container.id),
        (found) => found.length >= 3,
      );
      const following = (async () => {
        const lines: string[] = [];
        for await (const entry of runtime.logs(container.id, { follow: true })) lines.push(entry.line);
        return lines;
      })();
      await runtime.stopContainer(container.id, { timeoutSeconds: 5 });
      expect((await following).sort()).toEqual(['err-1', 'out-1', 'out-2']);
    });

    it(`execs a command, returning its exit code and output${needs}`, async () => {
      const container = await run(complianceCommands.idle);
      const result = await runtime.exec(container.id, {
        command: complianceCommands.execMixed,
        timeoutMs: 30_000,
      });
      expect(result).toEqual({ exitCode: 7, stdout: 'to-out\n', stderr: 'to-err\n' });
      const created = await create();
      await expectCode(runtime.exec(created.id, { command: complianceCommands.execMixed }), 'NOT_RUNNING');
    });

    it(`fails a slow exec with TIMEOUT and an aborted one with CANCELLED${needs}`, async () => {
      const container = await run(complianceCommands.idle);
      await expectCode(
        runtime.exec(container.id, { command: complianceCommands.hang, timeoutMs: 150 }),
        'TIMEOUT',
      );
      const controller = new AbortController();
      const exec = runtime.exec(container.id, {
        command: complianceCommands.hang,
        signal: controller.signal,
      });
      const session = runtime.execStream(container.id, {
        command: complianceCommands.hang,
        tty: false,
        signal: controller.signal,
      });
      await sleep(100);
      controller.abort();
      await expectCode(exec, 'CANCELLED');
      await expectCode(session.exitCode, 'CANCELLED');
      await expectCode(readAll(session.output), 'CANCELLED');
    });

    it(`streams an exec session with stdin, exit code and a TTY${needs}`, async () => {
      const container = await run(complianceCommands.idle);
      const session = runtime.execStream(container.id, {
        command: complianceCommands.echoStdin,
        tty: false,
        stdin: chunks(['hello ', 'stream\n']),
      });
      expect(await readAll(session.output)).toEqual({ stdout: 'hello stream\n', stderr: '' });
      expect(await session.exitCode).toBe(0);

      const mixed = runtime.execStream(container.id, { command: complianceCommands.execMixed, tty: false });
      expect(await readAll(mixed.output)).toEqual({ stdout: 'to-out\n', stderr: 'to-err\n' });
      expect(await mixed.exitCode).toBe(7);

      const tty = runtime.execStream(container.id, { command: complianceCommands.ttyOut, tty: true });
      const output = await readAll(tty.output);
      expect(output.stderr).toBe('');
      expect(output.stdout).toContain('tty-out');
      expect(await tty.exitCode).toBe(0);
    });

    it(`writes files with their modes into created and running containers${needs}`, async () => {
      const created = await create();
      await runtime.putFiles(created.id, [
        { path: '/etc/monk/app.conf', contents: 'port = 80\nname = "é"\n', mode: 0o640 },
        { path: '/opt/monk/bin/run.sh', contents: '#!/bin/sh\necho hi\n', mode: 0o755 },
      ]);
      await runtime.startContainer(created.id);
      const cat = await runtime.exec(created.id, { command: complianceCommands.cat('/etc/monk/app.conf') });
      expect(cat).toMatchObject({ exitCode: 0, stdout: 'port = 80\nname = "é"\n' });
      const confMode = await runtime.exec(created.id, {
        command: complianceCommands.mode('/etc/monk/app.conf'),
      });
      expect(confMode.stdout.trim()).toBe('640');
      const scriptMode = await runtime.exec(created.id, {
        command: complianceCommands.mode('/opt/monk/bin/run.sh'),
      });
      expect(scriptMode.stdout.trim()).toBe('755');

      await runtime.putFiles(created.id, [{ path: '/tmp/later.txt', contents: 'later', mode: 0o600 }]);
      const later = await runtime.exec(created.id, { command: complianceCommands.cat('/tmp/later.txt') });
      expect(later.stdout).toBe('later');
      const laterMode = await runtime.exec(created.id, {
        command: complianceCommands.mode('/tmp/later.txt'),
      });
      expect(laterMode.stdout.trim()).toBe('600');
    });

    it(`ensures a network idempotently and attaches a container to it${needs}`, async () => {
      const network = `${runId}-net`;
      networks.push(network);
      await runtime.ensureNetwork(network, { labels: { [runLabel]: runId } });
      await runtime.ensureNetwork(network, { labels: { [runLabel]: runId } });
      const created = await create({
        network: { name: network, aliases: ['db', 'db.local'] },
        hostname: 'db',
      });
      await runtime.startContainer(created.id);
      const running = await runtime.inspectContainer(created.id);
      expect(Object.keys(running.ipAddresses)).toEqual([network]);
      expect(running.ipAddresses[network]).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      await runtime.removeContainer(created.id, { force: true });
      await runtime.removeNetwork(network);
      await runtime.removeNetwork(network);
      // The network is looked up at start, not at create.
      const orphan = await create({ network: { name: network, aliases: [] } });
      await expectCode(runtime.startContainer(orphan.id), 'RUNTIME_ERROR');
    });
  });
}

/** Stdin as a person types it: parts a moment apart. */
async function* chunks(parts: readonly string[]): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  for (const part of parts) {
    await sleep(5);
    yield encoder.encode(part);
  }
}

async function readAll(
  output: AsyncIterable<{ stream: 'stdout' | 'stderr'; data: Uint8Array }>,
): Promise<{ stdout: string; stderr: string }> {
  const decoded = { stdout: '', stderr: '' };
  const decoder = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  for await (const chunk of output)
    decoded[chunk.stream] += decoder[chunk.stream].decode(chunk.data, { stream: true });
  return decoded;
}
