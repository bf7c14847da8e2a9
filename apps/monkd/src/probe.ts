import { monkLabels, MonkError, type JsonValue } from '@monk/model';
import { evaluateExpression } from '@monk/monkscript';
import { probeReadiness, type ContainerRuntime } from '@monk/runtime';
import type { ProbeFunction } from './readiness.ts';

/**
 * The check probe of this host (readiness and liveness): plain exec/http/tcp checks go to the runtime; Arrow checks
 * (`exec("c", …) "x" contains?`, `http-get("http://localhost:8080")`) are evaluated by MonkScript with
 * `exec` running in the named container of the same runnable and `localhost` meaning that container.
 */
export function createProbe(components: { runtime: ContainerRuntime }): ProbeFunction {
  const { runtime } = components;
  return async ({ check, container, siblings, signal }) => {
    if (check.kind !== 'arrow') {
      return probeReadiness(runtime, { containerId: container.id, check, signal });
    }
    const ipOf = (c: typeof container): string | undefined => Object.values(c.ipAddresses)[0];
    const value = await evaluateExpression({
      code: check.code,
      variables: check.variables ?? {},
      host: {
        exec: async (name: string, command: string[]) => {
          const target =
            siblings.find((c) => c.labels[monkLabels.container] === name && c.state === 'running') ??
            container;
          const result = await runtime.exec(target.id, {
            command,
            timeoutMs: check.timeoutSeconds * 1000,
            signal,
          });
          return result.stdout;
        },
        httpGet: async (url: string) => {
          const ip = ipOf(container);
          const target =
            ip === undefined ? url : url.replace(/\/\/(localhost|127\.0\.0\.1)(?=[:/]|$)/, `//${ip}`);
          const response = await fetch(target, { signal });
          if (!response.ok) throw new MonkError('CHECK_FAILED', `GET ${url} answered ${response.status}`);
          return response.text();
        },
      },
    });
    return { ready: truthy(value), message: `expression evaluated to ${JSON.stringify(value)}` };
  };
}

function truthy(value: JsonValue): boolean {
  return value !== null && value !== false && value !== 0 && value !== '';
}
