import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerSpec, ReadinessCheck } from '@monk/model';
import { afterEach, describe, expect, it } from 'vitest';
import { createDockerRuntime, probeReadiness } from '@monk/runtime';
import type { ProbeResult } from '@monk/runtime';

const runtime = createDockerRuntime({});
const timing = { initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 5, attempts: 1 };

const spec = (command: string[]): ContainerSpec => ({
  image: 'monk-local/busybox:latest',
  command,
  environment: {},
  ports: [],
  mounts: [],
  files: [],
  labels: {},
});

describe('probeReadiness on Docker', () => {
  const created: string[] = [];
  afterEach(async () => {
    for (const id of created.splice(0)) await runtime.removeContainer(id, { force: true });
  });

  const start = async (command: string[], files: ContainerSpec['files'] = []): Promise<string> => {
    const { id } = await runtime.createContainer({
      name: `monk-test-${randomUUID().slice(0, 8)}`,
      spec: spec(command),
      labels: {},
    });
    created.push(id);
    await runtime.putFiles(id, files);
    await runtime.startContainer(id);
    return id;
  };

  /** The server needs a moment to listen: probe until ready or a 30 s deadline. */
  const probeUntilReady = async (containerId: string, check: ReadinessCheck): Promise<ProbeResult> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const result = await probeReadiness(runtime, { containerId, check });
      if (result.ready || Date.now() > deadline) return result;
      await sleep(100);
    }
  };

  it('probes http and tcp on the container address from the host (needs Docker)', async () => {
    const id = await start(
      ['httpd', '-f', '-p', '8080', '-h', '/www'],
      [{ path: '/www/health', contents: 'ok', mode: 0o644 }],
    );
    const http = await probeUntilReady(id, { kind: 'http', port: 8080, path: '/health', ...timing });
    expect(http.ready).toBe(true);
    expect(http.message).toMatch(/^GET http:\/\/[\d.]+:8080\/health answered 200$/);
    const missing = await probeReadiness(runtime, {
      containerId: id,
      check: { kind: 'http', port: 8080, path: '/missing', ...timing },
    });
    expect(missing.ready).toBe(false);
    expect(missing.message).toMatch(/answered 404$/);
    expect(
      (await probeReadiness(runtime, { containerId: id, check: { kind: 'tcp', port: 8080, ...timing } }))
        .ready,
    ).toBe(true);
    const refused = await probeReadiness(runtime, {
      containerId: id,
      check: { kind: 'tcp', port: 9, ...timing },
    });
    expect(refused.ready).toBe(false);
    expect(refused.message).toMatch(/ECONNREFUSED$/);
  });

  it('probes with exec in the container (needs Docker)', async () => {
    const id = await start(['sleep', '3600']);
    const exec = (command: string[]) =>
      probeReadiness(runtime, { containerId: id, check: { kind: 'exec', command, ...timing } });
    expect(await exec(['true'])).toEqual({ ready: true, message: 'exec true exited 0' });
    expect(await exec(['sh', '-c', 'echo not yet >&2; exit 1'])).toEqual({
      ready: false,
      message: 'exec sh -c echo not yet >&2; exit 1 exited 1: not yet',
    });
  });
});
