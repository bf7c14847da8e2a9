import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ContainerSpec, ReadinessCheck } from '@monk/model';
import { MonkError } from '@monk/model';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryRuntime } from './memory-runtime.ts';
import type { MemoryRuntime } from './memory-runtime.ts';
import { probeReadiness } from './probe-readiness.ts';

const timing = { initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 2, attempts: 1 };
const spec: ContainerSpec = {
  image: 'busybox',
  environment: {},
  ports: [],
  mounts: [],
  files: [],
  labels: {},
};
const code = (value: string) => (error: unknown) => error instanceof MonkError && error.code === value;

async function runningContainer(runtime: MemoryRuntime, start = true): Promise<string> {
  const { id } = await runtime.createContainer({ name: 'probed', spec, labels: {} });
  if (start) await runtime.startContainer(id);
  return id;
}

describe('probeReadiness', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  const listen = async (handler: Parameters<typeof createServer>[1]): Promise<number> => {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };

  const loopbackRuntime = () => createMemoryRuntime({ images: ['busybox'], ipAddress: () => '127.0.0.1' });

  it('is ready when the exec check exits 0, and says why not otherwise', async () => {
    const runtime = createMemoryRuntime({ images: ['busybox'] });
    const containerId = await runningContainer(runtime);
    const check: ReadinessCheck = { kind: 'exec', command: ['pg_isready'], ...timing };
    expect(await probeReadiness(runtime, { containerId, check })).toEqual({
      ready: true,
      message: 'exec pg_isready exited 0',
    });
    runtime.setExecHandler(() => ({ exitCode: 2, stdout: '', stderr: 'no response\n' }));
    expect(await probeReadiness(runtime, { containerId, check })).toEqual({
      ready: false,
      message: 'exec pg_isready exited 2: no response',
    });
    runtime.setExecHandler(() => new Promise(() => undefined));
    const slow = await probeReadiness(runtime, { containerId, check: { ...check, timeoutSeconds: 0.02 } });
    expect(slow).toEqual({ ready: false, message: 'exec pg_isready did not finish within 0.02s' });
  });

  it('is not ready while the container is not running', async () => {
    const runtime = loopbackRuntime();
    const containerId = await runningContainer(runtime, false);
    const exec = await probeReadiness(runtime, {
      containerId,
      check: { kind: 'exec', command: ['true'], ...timing },
    });
    expect(exec.ready).toBe(false);
    expect(exec.message).toMatch(/not running/);
    const tcp = await probeReadiness(runtime, { containerId, check: { kind: 'tcp', port: 1, ...timing } });
    expect(tcp).toEqual({ ready: false, message: 'container probed has no IP address (is it running?)' });
  });

  it('is ready on a 2xx or 3xx answer to the http check', async () => {
    const port = await listen((req, res) => {
      res.statusCode = req.url === '/health' ? 200 : req.url === '/moved' ? 302 : 503;
      res.end();
    });
    const runtime = loopbackRuntime();
    const containerId = await runningContainer(runtime);
    const probe = (path: string) =>
      probeReadiness(runtime, { containerId, check: { kind: 'http', port, path, ...timing } });
    expect(await probe('/health')).toEqual({
      ready: true,
      message: `GET http://127.0.0.1:${port}/health answered 200`,
    });
    expect((await probe('moved')).ready).toBe(true);
    expect(await probe('/starting')).toEqual({
      ready: false,
      message: `GET http://127.0.0.1:${port}/starting answered 503`,
    });
  });

  it('is not ready when the http check gets no answer in time', async () => {
    const port = await listen(() => undefined);
    const runtime = loopbackRuntime();
    const containerId = await runningContainer(runtime);
    const check: ReadinessCheck = { kind: 'http', port, path: '/', ...timing, timeoutSeconds: 0.05 };
    expect(await probeReadiness(runtime, { containerId, check })).toEqual({
      ready: false,
      message: `GET http://127.0.0.1:${port}/: no answer within 0.05s`,
    });
  });

  it('is ready when the tcp check connects, and not when it is refused', async () => {
    const port = await listen(() => undefined);
    const runtime = loopbackRuntime();
    const containerId = await runningContainer(runtime);
    expect(await probeReadiness(runtime, { containerId, check: { kind: 'tcp', port, ...timing } })).toEqual({
      ready: true,
      message: `tcp 127.0.0.1:${port} accepted a connection`,
    });
    const closedPort = await listen(() => undefined);
    const closing = servers.pop();
    await new Promise((resolve) => closing?.close(resolve));
    expect(
      await probeReadiness(runtime, { containerId, check: { kind: 'tcp', port: closedPort, ...timing } }),
    ).toEqual({
      ready: false,
      message: `tcp 127.0.0.1:${closedPort}: ECONNREFUSED`,
    });
  });

  it('probes the address on the named network only', async () => {
    const runtime = loopbackRuntime();
    const containerId = await runningContainer(runtime);
    const result = await probeReadiness(runtime, {
      containerId,
      network: 'elsewhere',
      check: { kind: 'tcp', port: 1, ...timing },
    });
    expect(result).toEqual({
      ready: false,
      message: 'container probed has no IP address on network elsewhere (is it running?)',
    });
  });

  it('rejects arrow checks, cancelled probes and missing containers', async () => {
    const runtime = loopbackRuntime();
    const containerId = await runningContainer(runtime);
    await expect(
      probeReadiness(runtime, { containerId, check: { kind: 'arrow', code: 'true', ...timing } }),
    ).rejects.toSatisfy(code('INVALID_REQUEST'));
    const port = await listen(() => undefined);
    const controller = new AbortController();
    const pending = probeReadiness(runtime, {
      containerId,
      check: { kind: 'http', port, path: '/', ...timing },
      signal: controller.signal,
    });
    controller.abort();
    await expect(pending).rejects.toSatisfy(code('CANCELLED'));
    await expect(
      probeReadiness(runtime, { containerId: 'gone', check: { kind: 'tcp', port, ...timing } }),
    ).rejects.toSatisfy(code('CONTAINER_NOT_FOUND'));
  });
});
