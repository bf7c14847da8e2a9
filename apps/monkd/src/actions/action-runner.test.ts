import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createGraph, createMemoryStore, type Graph } from '@monk/graph';
import { monkLabels } from '@monk/model';
import { createMemoryFileSource, loadTemplates, resolveDeployment } from '@monk/monkscript';
import { createMemoryRuntime, type MemoryExecRequest, type MemoryRuntime } from '@monk/runtime';
import { createLogger } from '../logger.ts';
import { systemTimers } from '../timers.ts';
import { createReadinessProber } from '../readiness.ts';
import { createReconciler } from '../reconciler.ts';
import { createResolveHosts } from '../resolve-host.ts';
import { createSecretStore } from '../secrets/secret-store.ts';
import { buildWorkloads } from '@monk/planner';
import { createActionRunner } from './action-runner.ts';
import { createGraphTemplateSource } from './graph-templates.ts';
import { createHookRunner } from './hook-runner.ts';

const peerId = 'peer-aaaaaa';
const image = 'busybox:latest';
const yaml = `namespace: t
app:
  defines: runnable
  permitted-secrets: {token: true}
  variables:
    greeting: hello
    token: <- secret("token")
  containers:
    web: {image: ${image}, hooks: {container-started: init}}
    worker: {image: ${image}}
  actions:
    init:
      code: exec("web", "touch", "/ready")
    say:
      arguments: {name: {default: world}}
      code: exec("worker", "echo", $greeting, $name)
    fail:
      code: exec("worker", "false")
    safe:
      code: exec("worker", "false") error?
    token:
      code: exec("worker", "echo", $token)
`;

async function until<T>(check: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('actions and hooks (memory runtime)', () => {
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  async function setup() {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', write: (line) => lines.push(line) });
    const runtime: MemoryRuntime = createMemoryRuntime({ images: [image] });
    const execs: Array<MemoryExecRequest & { container: string }> = [];
    runtime.setExecHandler(async (request) => {
      const info = await runtime.inspectContainer(request.containerId);
      execs.push({ ...request, container: info.labels[monkLabels.container] ?? '?' });
      if (request.command[0] === 'false') return { exitCode: 1, stdout: '', stderr: 'it failed\n' };
      if (request.command[0] === 'echo')
        return { exitCode: 0, stdout: `${request.command.slice(1).join(' ')}\n`, stderr: '' };
      return { exitCode: 0, stdout: '', stderr: '' };
    });
    const graph: Graph = await createGraph({ peerId, store: createMemoryStore() });
    stops.push(() => graph.close());
    const key = randomBytes(32);
    const secrets = createSecretStore({ graph, keys: { key: async () => key }, now: Date.now });
    await secrets.add({ name: 'token', value: 's3cret', scope: 'global' });
    const resolveHosts = createResolveHosts({ secrets });
    const actions = createActionRunner({ peerId, volumeRoot: '/vol' }, { graph, runtime, resolveHosts });
    const hooks = createHookRunner({ actions, logger });

    const { templates } = await loadTemplates({
      entries: ['/t.yaml'],
      files: createMemoryFileSource({ '/t.yaml': yaml }),
    });
    graph.putTemplates(templates.map((record) => ({ path: record.path, value: record as never })));
    const resolved = await resolveDeployment({
      path: 't/app',
      templates: createGraphTemplateSource(graph),
      host: await resolveHosts.forDeployment('t/app'),
      volumeRoot: '/vol',
    });
    graph.putDeployment({
      path: 't/app',
      variables: { greeting: 'hi' },
      state: 'running',
      generation: 1,
      updatedAt: new Date().toISOString(),
    });
    graph.putWorkloads(
      buildWorkloads({ deployment: 't/app', runnables: resolved.runnables, owner: peerId, generation: 1 }),
    );
    const reconciler = createReconciler(
      { peerId, resyncIntervalMs: 100 },
      {
        graph,
        runtime,
        prober: createReadinessProber({ probe: async () => ({ ready: true, message: 'ok' }), logger }),
        logger,
        timers: systemTimers,
        onContainerStarted: (workload, containerId) => hooks.onContainerStarted(workload, containerId),
      },
    );
    reconciler.start();
    stops.push(async () => {
      await reconciler.stop();
      await hooks.settled();
    });
    await until(
      () => (['t/app#web', 't/app#worker'].every((id) => graph.getObserved(id)?.ready) ? true : undefined),
      'ready',
    );
    await hooks.settled();
    return { runtime, graph, actions, execs, lines };
  }

  it('runs a container-started hook once, in the named container, after the start', async () => {
    const { execs, lines, runtime, graph } = await setup();
    expect(execs).toEqual([expect.objectContaining({ container: 'web', command: ['touch', '/ready'] })]);
    expect(lines.filter((line) => line.includes('hook container-started ran'))).toHaveLength(1);
    // A restart is a new start: the hook runs again.
    const id = graph.getObserved('t/app#web')?.containerId ?? '';
    runtime.simulateExit(id, 1);
    await until(() => (execs.length === 2 ? true : undefined), 'second hook');
    expect(execs[1]).toMatchObject({ container: 'web', command: ['touch', '/ready'] });
  });

  it('evaluates an action with the deployment variables and its arguments, exec in the named container', async () => {
    const { actions, execs } = await setup();
    expect(await actions.run({ runnable: 't/app', action: 'say' })).toEqual({
      value: 'hi world\n',
      secret: false,
    });
    expect((await actions.run({ runnable: '/t/app', action: 'say', args: { name: 'monk' } })).value).toBe(
      'hi monk\n',
    );
    expect(execs.at(-1)).toMatchObject({ container: 'worker', command: ['echo', 'hi', 'monk'] });
  });

  it('turns a non-zero exit into an error that error? can handle', async () => {
    const { actions } = await setup();
    await expect(actions.run({ runnable: 't/app', action: 'fail' })).rejects.toMatchObject({
      code: 'RUNTIME_ERROR',
      message: expect.stringContaining('exec false in t/app#worker exited with code 1: it failed') as unknown,
    });
    expect((await actions.run({ runnable: 't/app', action: 'safe' })).value).toBe(true);
  });

  it('reads secrets in actions and marks the result', async () => {
    const { actions } = await setup();
    expect(await actions.run({ runnable: 't/app', action: 'token' })).toEqual({
      value: 's3cret\n',
      secret: true,
    });
  });

  it('lists the actions that exist for an unknown one, and refuses runnables that do not run', async () => {
    const { actions } = await setup();
    await expect(actions.run({ runnable: 't/app', action: 'nope' })).rejects.toMatchObject({
      code: 'ACTION_NOT_FOUND',
      message: 't/app has no action "nope"; its actions: init, say, fail, safe, token',
    });
    await expect(actions.run({ runnable: 't/other', action: 'x' })).rejects.toMatchObject({
      code: 'RUNNABLE_NOT_FOUND',
    });
  });
});
