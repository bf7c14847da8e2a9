import { monkLabels, MonkError, type JsonValue, type Workload } from '@monk/model';
import type { Graph } from '@monk/graph';
import { runAction, type ActionResult, type ExpressionHost } from '@monk/monkscript';
import type { ContainerInfo, ContainerRuntime } from '@monk/runtime';
import type { ResolveHosts } from '../resolve-host.ts';
import { createGraphTemplateSource } from './graph-templates.ts';

/** How long one `exec` of an action may take. */
const execTimeoutMs = 10 * 60_000;

/**
 * Runs the `actions` of running runnables (`monk do`, container hooks): the action's code is evaluated by
 * MonkScript in the runnable's scope, as its deployment resolved it (variables, `--set` values, secrets,
 * connections); `exec(container, …)` runs in that container of the runnable on this peer and fails when
 * the command exits non-zero (so `error?`/`if-error` can handle it); `http-get` reads a URL, `localhost`
 * meaning the runnable's container.
 *
 * @example
 * const actions = createActionRunner({ peerId, volumeRoot }, { graph, runtime, resolveHosts });
 * const { value } = await actions.run({ runnable: 'shop/db', action: 'backup', args: { to: '/tmp' } });
 */
export interface ActionRunner {
  /**
   * Runs `action` of `runnable` (`ns/name`). `instance` (a workload id) makes `exec` prefer the containers
   * of the same replica. Throws `RUNNABLE_NOT_FOUND`/`NOT_RUNNING` when the runnable is not running,
   * `ACTION_NOT_FOUND` listing the actions it has, argument errors, and whatever the code fails with.
   */
  run(options: {
    runnable: string;
    action: string;
    args?: Readonly<Record<string, JsonValue>>;
    instance?: string;
    signal?: AbortSignal;
  }): Promise<ActionResult>;
}

export function createActionRunner(
  options: { peerId: string; volumeRoot: string },
  components: { graph: Graph; runtime: ContainerRuntime; resolveHosts: ResolveHosts },
): ActionRunner {
  const { graph, runtime } = components;
  const templates = createGraphTemplateSource(graph);

  async function containerOf(workload: Workload): Promise<ContainerInfo> {
    if (workload.owner !== options.peerId) {
      throw new MonkError(
        'NOT_RUNNING',
        `${workload.id} runs on peer ${workload.owner}; actions exec only in containers of this peer`,
      );
    }
    const containers = await runtime.listContainers({
      all: true,
      labels: { [monkLabels.workload]: workload.id, [monkLabels.peer]: options.peerId },
    });
    const running = containers.find((c) => c.state === 'running');
    if (running === undefined) throw new MonkError('NOT_RUNNING', `${workload.id} has no running container`);
    return running;
  }

  function hostFor(call: { instance: string | undefined; signal: AbortSignal | undefined }) {
    const replica = call.instance === undefined ? '' : (/@\d+$/.exec(call.instance)?.[0] ?? '');
    const pick = (runnable: string, container: string | undefined): Workload => {
      const candidates = graph
        .listWorkloads()
        .filter((w) => w.runnable === runnable && (container === undefined || w.container === container));
      const chosen = candidates.find((w) => w.id === `${runnable}#${w.container}${replica}`) ?? candidates[0];
      if (chosen === undefined) {
        const names = [
          ...new Set(
            graph
              .listWorkloads()
              .filter((w) => w.runnable === runnable)
              .map((w) => w.container),
          ),
        ];
        throw new MonkError(
          'CONTAINER_NOT_FOUND',
          `${runnable} has no container "${container ?? ''}" (containers: ${names.join(', ') || 'none'})`,
        );
      }
      return chosen;
    };
    return (runnable: string): ExpressionHost => ({
      exec: async (container, command) => {
        const workload = pick(runnable, container);
        const target = await containerOf(workload);
        const result = await runtime.exec(target.id, {
          command,
          timeoutMs: execTimeoutMs,
          ...(call.signal === undefined ? {} : { signal: call.signal }),
        });
        if (result.exitCode !== 0) {
          const output = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-5).join('\n');
          throw new MonkError(
            'RUNTIME_ERROR',
            `exec ${command[0] ?? ''} in ${workload.id} exited with code ${result.exitCode}${output === '' ? '' : `: ${output}`}`,
            { details: { workload: workload.id, exitCode: result.exitCode } },
          );
        }
        return result.stdout;
      },
      httpGet: async (url) => {
        const target = await containerOf(pick(runnable, undefined));
        const ip = Object.values(target.ipAddresses)[0];
        const resolved =
          ip === undefined ? url : url.replace(/\/\/(localhost|127\.0\.0\.1)(?=[:/]|$)/, `//${ip}`);
        const response = await fetch(resolved, call.signal === undefined ? {} : { signal: call.signal });
        if (!response.ok) throw new MonkError('CHECK_FAILED', `GET ${url} answered ${response.status}`);
        return response.text();
      },
    });
  }

  return {
    async run(call) {
      const runnable = call.runnable.replace(/^\/+/, '');
      const workloads = graph.listWorkloads().filter((w) => w.runnable === runnable);
      const [first] = workloads;
      if (first === undefined) {
        if (templates.get(runnable) !== undefined) {
          throw new MonkError(
            'NOT_RUNNING',
            `${runnable} is not running; start it with monk run ${runnable}`,
          );
        }
        throw new MonkError('RUNNABLE_NOT_FOUND', `there is no runnable ${runnable}`);
      }
      const deployment = graph.getDeployment(first.deployment);
      const host = await components.resolveHosts.forDeployment(first.deployment, {
        arrowHostFor: hostFor({ instance: call.instance, signal: call.signal }),
      });
      return runAction({
        path: first.deployment,
        runnable,
        action: call.action,
        args: call.args ?? {},
        templates,
        overrides: deployment?.variables ?? {},
        host,
        volumeRoot: options.volumeRoot,
      });
    },
  };
}
