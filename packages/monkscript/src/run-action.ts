import { MonkError } from '@monk/model';
import type { JsonObject, JsonValue } from '@monk/model';
import { locate } from './merge-template.ts';
import type { ArrowHost } from './arrow-bridge.ts';
import type { ResolveContext, Scope } from './resolve-context.ts';
import { prepareDeployment } from './resolve-deployment.ts';
import type { ResolveDeploymentOptions } from './resolve-deployment.ts';
import { findSection, isObject, sectionEntries } from './sections.ts';
import { resolveReference } from './template-path.ts';
import { coerceVariable } from './variable-types.ts';

/** Options of {@link runAction}: the deployment as `monk run` resolved it, plus the action to run. */
export interface RunActionOptions extends ResolveDeploymentOptions {
  /** The runnable whose action runs (`ns/name`); it must be part of the deployment at `path`. */
  readonly runnable: string;
  /** The action's name in the runnable's `actions`. */
  readonly action: string;
  /** Arguments as given (`monk do … name=value`): coerced to their declared types; defaults fill the rest. */
  readonly args?: Readonly<Record<string, JsonValue>>;
}

/** What an action returned, and whether a secret went into it (callers must not log such values). */
export interface ActionResult {
  readonly value: JsonValue;
  readonly secret: boolean;
}

/** How deep `act` may nest actions inside actions. */
const maxActionDepth = 8;

/**
 * Runs one of a runnable's `actions` (`code` is Arrow) in the runnable's scope: its variables (own, its
 * groups', `--set` overrides), connections and secrets resolve as they do for `monk run`; the declared
 * `arguments` are variables too (`$name`, and all of them as the object `$args`). Runtime operators such
 * as `exec` come from `host.arrowHostFor(runnable)`; `act(action, …)` runs another action of the same
 * runnable.
 *
 * @throws MonkError `ACTION_NOT_FOUND` (its message and `details.actions` list the actions that exist),
 *   `RUNNABLE_NOT_FOUND` when the runnable is not part of the deployment, `INVALID_REQUEST` for an
 *   argument the action does not declare, `VARIABLE_REQUIRED`/`VARIABLE_INVALID` for arguments, and what
 *   the code throws (`ARROW_EVAL`, or the code of a host method that failed).
 * @example
 * const { value } = await runAction({
 *   path: 'shop/stack', runnable: 'shop/db', action: 'backup', args: { target: '/tmp/x' },
 *   templates, overrides: deployment.variables, host, volumeRoot,
 * });
 */
export async function runAction(options: RunActionOptions): Promise<ActionResult> {
  const prepared = prepareDeployment(options);
  const runnable = resolveReference(options.runnable, '') ?? options.runnable;
  const scope = prepared.runnableScopes.find((candidate) => candidate.owner === runnable);
  if (scope === undefined) {
    throw new MonkError('RUNNABLE_NOT_FOUND', `${runnable} is not a runnable of ${prepared.root}`, {
      details: { runnable, deployment: prepared.root },
    });
  }
  return invoke(prepared.context, scope, { action: options.action, args: options.args ?? {}, depth: 0 });
}

/** The names of a runnable's actions, with their descriptions. */
export function actionsOf(scope: Scope): Array<{ name: string; description?: string }> {
  return sectionEntries(findSection(scope.merged.definition, 'actions')?.value).map(([name, raw]) => {
    const description = isObject(raw) ? raw['description'] : undefined;
    return typeof description === 'string' ? { name, description } : { name };
  });
}

async function invoke(
  context: ResolveContext,
  scope: Scope,
  call: { action: string; args: Readonly<Record<string, JsonValue>>; depth: number },
): Promise<ActionResult> {
  const section = findSection(scope.merged.definition, 'actions');
  const found = sectionEntries(section?.value).find(([name]) => name === call.action);
  if (found === undefined) {
    const actions = actionsOf(scope).map((entry) => entry.name);
    throw new MonkError(
      'ACTION_NOT_FOUND',
      actions.length === 0
        ? `${scope.owner} has no action "${call.action}"; it defines no actions`
        : `${scope.owner} has no action "${call.action}"; its actions: ${actions.join(', ')}`,
      { details: { runnable: scope.owner, action: call.action, actions } },
    );
  }
  const [name, raw] = found;
  const base = `${section?.key ?? 'actions'}/${name}`;
  const code = isObject(raw) ? raw['code'] : undefined;
  if (!isObject(raw) || typeof code !== 'string' || code.trim() === '') {
    throw new MonkError('TEMPLATE_INVALID', `action ${name} of ${scope.owner} has no code`, {
      location: locate(scope.merged, base),
    });
  }
  const locals = await argumentsOf(context, scope, { raw, base, call: { ...call, action: name } });
  const location = locate(scope.merged, `${base}/code`);
  const extraHost: ArrowHost = {
    act: async (action, args) => {
      if (call.depth + 1 >= maxActionDepth) {
        throw new MonkError('ARROW_EVAL', `actions call each other more than ${maxActionDepth} deep`);
      }
      return (await invoke(context, scope, { action, args, depth: call.depth + 1 })).value;
    },
  };
  const result = await context.evaluateCode(scope, { code, location, locals, extraHost });
  // `code: <- \`…\`` computes the script (as for readiness); the script then runs, and its value is the result.
  if (code.trimStart().startsWith('<-') && typeof result.value === 'string') {
    const computed = await context.evaluateCode(scope, { code: result.value, location, locals, extraHost });
    return { value: computed.value ?? null, secret: result.secret || computed.secret };
  }
  return { value: result.value ?? null, secret: result.secret };
}

async function argumentsOf(
  context: ResolveContext,
  scope: Scope,
  at: {
    raw: JsonObject;
    base: string;
    call: { action: string; args: Readonly<Record<string, JsonValue>> };
  },
): Promise<Record<string, JsonValue>> {
  const declaredRaw = at.raw['arguments'];
  const declared = sectionEntries(isObject(declaredRaw) ? declaredRaw : undefined);
  const names = declared.map(([argument]) => argument);
  for (const given of Object.keys(at.call.args)) {
    if (!names.includes(given)) {
      throw new MonkError(
        'INVALID_REQUEST',
        `action ${at.call.action} of ${scope.owner} has no argument "${given}"; ${names.length === 0 ? 'it takes none' : `it takes: ${names.join(', ')}`}`,
        { details: { runnable: scope.owner, action: at.call.action, arguments: names } },
      );
    }
  }
  const values: Record<string, JsonValue> = {};
  for (const [argument, rawSpec] of declared) {
    const spec: JsonObject = isObject(rawSpec) ? rawSpec : {};
    const keyPath = `${at.base}/arguments/${argument}`;
    const location = locate(scope.merged, keyPath);
    let value: JsonValue | undefined = Object.hasOwn(at.call.args, argument)
      ? at.call.args[argument]
      : undefined;
    if (value === undefined && spec['default'] !== undefined) {
      value = (await context.evaluateValue(scope, { value: spec['default'], keyPath: `${keyPath}/default` }))
        .value;
    }
    if (value === undefined || value === null) {
      if (spec['required'] === true) {
        throw new MonkError(
          'VARIABLE_REQUIRED',
          `action ${at.call.action} of ${scope.owner} needs the argument ${argument} (${argument}=…)`,
          { location, details: { runnable: scope.owner, action: at.call.action, argument } },
        );
      }
      values[argument] = null;
      continue;
    }
    const type = spec['type'];
    values[argument] = coerceVariable({
      name: argument,
      type: typeof type === 'string' ? type : undefined,
      value,
      location,
    });
  }
  if (!Object.hasOwn(values, 'args')) values['args'] = { ...values };
  return values;
}
