import { randomUUID } from 'node:crypto';
import { MonkError } from '@monk/model';
import type { ContainerSpec } from '@monk/model';
import { afterEach, describe, expect, it } from 'vitest';
import { createDockerRuntime } from '@monk/runtime';
import { complianceImage, describeRuntimeCompliance } from '../src/test-compliance.ts';

describeRuntimeCompliance('docker', {
  requirement: ' (needs Docker)',
  makeRuntime: () => createDockerRuntime({}),
});

const runtime = createDockerRuntime({});
const code = (value: string) => (error: unknown) => error instanceof MonkError && error.code === value;

const spec = (overrides: Partial<ContainerSpec> = {}): ContainerSpec => ({
  image: complianceImage,
  command: ['sleep', '3600'],
  environment: {},
  ports: [],
  mounts: [],
  files: [],
  labels: {},
  ...overrides,
});

describe('docker runtime', () => {
  const created: string[] = [];
  const networks: string[] = [];

  afterEach(async () => {
    for (const id of created.splice(0)) {
      await runtime.removeContainer(id, { force: true }).catch((error: unknown) => {
        if (!code('CONTAINER_NOT_FOUND')(error)) throw error;
      });
    }
    for (const network of networks.splice(0)) await runtime.removeNetwork(network);
  });

  it('makes a network on the subnet, gateway and bridge name asked for, and remakes it on another subnet (needs Docker)', async () => {
    const runId = `monk-test-${randomUUID().slice(0, 8)}`;
    const network = `${runId}-net`;
    const bridgeName = `mt${runId.slice(-8)}`;
    networks.push(network);
    const ipv4 = { subnet: '10.197.41.0/24', gateway: '10.197.41.1' };
    await runtime.ensureNetwork(network, { ipv4, bridgeName });
    await runtime.ensureNetwork(network, { ipv4, bridgeName });
    const container = await runtime.createContainer({
      name: `${runId}-c`,
      spec: spec(),
      labels: {},
      network: { name: network, aliases: [] },
      dns: ['10.197.41.1'],
    });
    created.push(container.id);
    await runtime.startContainer(container.id);
    const info = await runtime.inspectContainer(container.id);
    expect(info.ipAddresses[network]).toMatch(/^10\.197\.41\./);
    const routes = await runtime.exec(container.id, { command: ['ip', 'route'], timeoutMs: 10_000 });
    expect(routes.stdout).toContain('default via 10.197.41.1');
    await runtime.removeContainer(container.id, { force: true });
    await runtime.ensureNetwork(network, {
      ipv4: { subnet: '10.197.42.0/24', gateway: '10.197.42.1' },
      bridgeName,
    });
    const moved = await runtime.createContainer({
      name: `${runId}-d`,
      spec: spec(),
      labels: {},
      network: { name: network, aliases: [] },
    });
    created.push(moved.id);
    await runtime.startContainer(moved.id);
    expect((await runtime.inspectContainer(moved.id)).ipAddresses[network]).toMatch(/^10\.197\.42\./);
  });

  it('lets a container reach another by its network alias (needs Docker)', async () => {
    const runId = `monk-test-${randomUUID().slice(0, 8)}`;
    const network = `${runId}-net`;
    networks.push(network);
    await runtime.ensureNetwork(network, {});
    const server = await runtime.createContainer({
      name: `${runId}-server`,
      spec: spec({ command: ['httpd', '-f', '-p', '8080', '-h', '/www'] }),
      labels: {},
      network: { name: network, aliases: ['web.internal'] },
    });
    created.push(server.id);
    await runtime.putFiles(server.id, [
      { path: '/www/index.html', contents: 'hello from web\n', mode: 0o644 },
    ]);
    await runtime.startContainer(server.id);
    const client = await runtime.createContainer({
      name: `${runId}-client`,
      spec: spec(),
      labels: {},
      network: { name: network, aliases: [] },
    });
    created.push(client.id);
    await runtime.startContainer(client.id);

    // Not `wget -T`: it crashes this busybox build (exit 139).
    const fetchPage = (host: string) =>
      runtime.exec(client.id, {
        command: ['wget', '-q', '-O', '-', `http://${host}:8080/`],
        timeoutMs: 30_000,
      });
    // httpd may need a moment to listen: retry until the deadline.
    const deadline = Date.now() + 30_000;
    let result = await fetchPage('web.internal');
    while (result.exitCode !== 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      result = await fetchPage('web.internal');
    }
    expect(result).toMatchObject({ exitCode: 0, stdout: 'hello from web\n' });
    expect((await fetchPage(`${runId}-server`)).stdout).toBe('hello from web\n');
  });

  it('maps environment, working directory, user, ports and mounts (needs Docker)', async () => {
    const runId = `monk-test-${randomUUID().slice(0, 8)}`;
    const info = await runtime.createContainer({
      name: `${runId}-mapped`,
      spec: spec({
        environment: { GREETING: 'hi there' },
        workingDir: '/srv',
        user: '1234:1234',
        ports: [{ containerPort: 8080, protocol: 'tcp' }],
        mounts: [{ kind: 'tmpfs', source: '', target: '/scratch', readOnly: false }],
        resources: { memoryBytes: 64 * 1024 * 1024, cpus: 0.5 },
      }),
      labels: {},
    });
    created.push(info.id);
    await runtime.startContainer(info.id);
    const result = await runtime.exec(info.id, {
      command: [
        'sh',
        '-c',
        'echo "$GREETING|$(pwd)|$(id -u)"; grep " /scratch " /proc/mounts | cut -d" " -f3',
      ],
      timeoutMs: 30_000,
    });
    expect(result.stdout).toBe('hi there|/srv|1234\ntmpfs\n');
  });

  it('keeps the engine message when an image is missing (needs Docker)', async () => {
    const failure = runtime.createContainer({
      name: `monk-test-${randomUUID().slice(0, 8)}`,
      spec: spec({ image: 'monk-local/never-built:1.0' }),
      labels: {},
    });
    await expect(failure).rejects.toSatisfy(code('IMAGE_NOT_FOUND'));
    await expect(failure).rejects.toThrow(/monk-local\/never-built:1\.0/);
  });

  it('reports RUNTIME_UNAVAILABLE when no engine listens on the socket (needs Docker)', async () => {
    const absent = createDockerRuntime({ socketPath: `/tmp/monk-test-${randomUUID()}.sock` });
    await expect(absent.info()).rejects.toSatisfy(code('RUNTIME_UNAVAILABLE'));
    await expect(absent.listContainers()).rejects.toSatisfy(code('RUNTIME_UNAVAILABLE'));
    const controller = new AbortController();
    const events = absent.events({ signal: controller.signal })[Symbol.asyncIterator]();
    await expect(events.next()).rejects.toSatisfy(code('RUNTIME_UNAVAILABLE'));
    controller.abort();
  });
});
