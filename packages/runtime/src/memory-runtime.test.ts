import type { ContainerSpec } from '@monk/model';
import { MonkError } from '@monk/model';
import { describe, expect, it } from 'vitest';
import type { RuntimeEvent } from './container-runtime.ts';
import { createMemoryRuntime } from './memory-runtime.ts';
import type { MemoryExecHandler, MemoryProcessHandler, MemoryRuntime } from './memory-runtime.ts';
import { complianceCommands, complianceImage, describeRuntimeCompliance } from './test-compliance.ts';

const same = (a: readonly string[], b: readonly string[]): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Scripts the busybox programs of the compliance suite, the way the real image would behave. */
function makeComplianceRuntime(): MemoryRuntime {
  const runtime = createMemoryRuntime({ images: [complianceImage] });
  const processes: MemoryProcessHandler = ({ options }) => {
    const command = options.spec.command ?? [];
    if (same(command, complianceCommands.chatty)) {
      return {
        output: [
          { stream: 'stdout', line: 'out-1' },
          { stream: 'stderr', line: 'err-1' },
          { stream: 'stdout', line: 'out-2' },
        ],
      };
    }
    if (same(command, complianceCommands.exitThree))
      return { output: [{ stream: 'stdout', line: 'bye' }], exitCode: 3 };
    return {};
  };
  const execs: MemoryExecHandler = ({ containerId, command, stdin }) => {
    const ok = (stdout: string) => ({ exitCode: 0, stdout, stderr: '' });
    if (same(command, complianceCommands.execMixed))
      return { exitCode: 7, stdout: 'to-out\n', stderr: 'to-err\n' };
    if (same(command, complianceCommands.echoStdin)) return ok(stdin ?? '');
    if (same(command, complianceCommands.hang)) return new Promise(() => undefined);
    if (same(command, complianceCommands.ttyOut)) return { exitCode: 0, stdout: '', stderr: 'tty-out\r\n' };
    if (same(command, complianceCommands.printLate)) {
      runtime.writeLog(containerId, { stream: 'stdout', line: 'late-line' });
      return ok('');
    }
    const path = command.at(-1) ?? '';
    const file = runtime.readFile(containerId, path);
    if (same(command, complianceCommands.cat(path)) && file !== undefined) return ok(file.contents);
    if (same(command, complianceCommands.mode(path)) && file !== undefined)
      return ok(`${file.mode.toString(8)}\n`);
    return { exitCode: 127, stdout: '', stderr: `${command.join(' ')}: not scripted\n` };
  };
  runtime.setProcessHandler(processes);
  runtime.setExecHandler(execs);
  return runtime;
}

describeRuntimeCompliance('memory', { makeRuntime: makeComplianceRuntime });

const spec: ContainerSpec = {
  image: 'busybox',
  command: ['sleep', '1'],
  environment: {},
  ports: [],
  mounts: [],
  files: [],
  labels: { 'monk.managed': 'true' },
};

const code = (value: string) => (error: unknown) => error instanceof MonkError && error.code === value;

describe('memory runtime test controls', () => {
  it('exits a running container on demand with a die event', async () => {
    const runtime = createMemoryRuntime({
      images: ['busybox:latest'],
      clock: () => new Date('2030-01-02T03:04:05Z'),
    });
    const controller = new AbortController();
    const events = runtime.events({ signal: controller.signal });
    const { id } = await runtime.createContainer({ name: 'a', spec, labels: {} });
    await runtime.startContainer(id);
    runtime.simulateExit(id, 42);
    controller.abort();
    const seen: RuntimeEvent[] = [];
    for await (const event of events) seen.push(event);
    expect(seen.map((e) => [e.type, e.exitCode])).toEqual([
      ['create', undefined],
      ['start', undefined],
      ['die', 42],
    ]);
    expect(await runtime.inspectContainer(id)).toMatchObject({
      state: 'exited',
      exitCode: 42,
      finishedAt: '2030-01-02T03:04:05.000Z',
    });
    expect(() => runtime.simulateExit(id, 1)).toThrow(expect.toSatisfy(code('NOT_RUNNING')));
  });

  it('fails every call and open event streams with RUNTIME_UNAVAILABLE while down', async () => {
    const runtime = createMemoryRuntime({ images: ['busybox'] });
    const controller = new AbortController();
    const events = runtime.events({ signal: controller.signal });
    const iterator = events[Symbol.asyncIterator]();
    const pending = iterator.next();
    runtime.setAvailable(false);
    await expect(pending).rejects.toSatisfy(code('RUNTIME_UNAVAILABLE'));
    await expect(runtime.info()).rejects.toSatisfy(code('RUNTIME_UNAVAILABLE'));
    await expect(runtime.listContainers()).rejects.toSatisfy(code('RUNTIME_UNAVAILABLE'));
    await expect(runtime.createContainer({ name: 'a', spec, labels: {} })).rejects.toSatisfy(
      code('RUNTIME_UNAVAILABLE'),
    );
    const later = runtime.events({ signal: controller.signal })[Symbol.asyncIterator]();
    await expect(later.next()).rejects.toSatisfy(code('RUNTIME_UNAVAILABLE'));
    runtime.setAvailable(true);
    expect(await runtime.listContainers()).toEqual([]);
    controller.abort();
  });

  it('answers exec with the configured handler, and times out', async () => {
    const runtime = createMemoryRuntime({ images: ['busybox'] });
    const { id } = await runtime.createContainer({ name: 'a', spec, labels: {} });
    await runtime.startContainer(id);
    expect(await runtime.exec(id, { command: ['true'] })).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    runtime.setExecHandler(({ command }) => ({ exitCode: 1, stdout: command.join(' '), stderr: '' }));
    expect(await runtime.exec(id, { command: ['pg_isready'] })).toEqual({
      exitCode: 1,
      stdout: 'pg_isready',
      stderr: '',
    });
    runtime.setExecHandler(() => new Promise(() => undefined));
    await expect(runtime.exec(id, { command: ['hang'], timeoutMs: 10 })).rejects.toSatisfy(code('TIMEOUT'));
    const controller = new AbortController();
    const cancelled = runtime.exec(id, { command: ['hang'], signal: controller.signal });
    controller.abort();
    await expect(cancelled).rejects.toSatisfy(code('CANCELLED'));
  });

  it('records what a container was created with and treats `name` as `name:latest`', async () => {
    const runtime = createMemoryRuntime({ images: ['busybox'] });
    expect(await runtime.hasImage('busybox:latest')).toBe(true);
    expect(await runtime.hasImage('postgres')).toBe(false);
    runtime.addImage('postgres:16');
    expect(await runtime.hasImage('postgres:16')).toBe(true);
    const options = {
      name: 'a',
      spec,
      labels: { 'monk.workload': 'w' },
      network: { name: 'bridge', aliases: ['x'] },
    };
    const { id } = await runtime.createContainer(options);
    expect(runtime.createOptionsOf(id)).toEqual(options);
    expect((await runtime.inspectContainer(id.slice(0, 12))).id).toBe(id);
  });

  it('rejects file paths that leave the container root', async () => {
    const runtime = createMemoryRuntime({ images: ['busybox'] });
    const { id } = await runtime.createContainer({ name: 'a', spec, labels: {} });
    await expect(runtime.putFiles(id, [{ path: '/../etc/x', contents: '', mode: 0o644 }])).rejects.toSatisfy(
      code('INVALID_REQUEST'),
    );
    await runtime.putFiles(id, [{ path: 'etc//x', contents: 'x', mode: 0o644 }]);
    expect(runtime.readFile(id, '/etc/x')?.contents).toBe('x');
  });
});
