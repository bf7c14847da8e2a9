import type { JsonValue, SourceLocation } from '@monk/model';
import { parseExpression, runExpression } from './arrow-bridge.ts';
import type { ArrowHost } from './arrow-bridge.ts';

/** The runtime operators an expression may call (exec, http-get, connection-hostname…). */
export type ExpressionHost = ArrowHost;

/**
 * Evaluates one Arrow expression at run time — monkd runs a readiness check's `code` with it, with the
 * runnable's resolved variables. `code` may start with `<-` or not.
 *
 * @throws MonkError `ARROW_SYNTAX` or `ARROW_EVAL` (with `location` when given), or the code of a host
 *   method that failed (e.g. `CONTAINER_NOT_FOUND` from `exec`).
 * @example
 * const ready = await evaluateExpression({
 *   code: 'exec("postgres", "pg_isready") contains?("accepting connections")',
 *   variables: runnable.variables,
 *   host: { exec: (container, command) => runtime.exec(container, command) },
 * });
 */
export async function evaluateExpression(options: {
  code: string;
  variables: Readonly<Record<string, JsonValue>>;
  host: ExpressionHost;
  location?: SourceLocation;
}): Promise<JsonValue> {
  const program = parseExpression(options.code, options.location);
  return runExpression(program, {
    scope: {
      lookup: (name) => (Object.hasOwn(options.variables, name) ? options.variables[name] : undefined),
    },
    host: options.host,
    ...(options.location === undefined ? {} : { location: options.location }),
  });
}
