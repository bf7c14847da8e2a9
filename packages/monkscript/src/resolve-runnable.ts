import { MonkError, defaultRecoveryPolicy, recoveryModeValues, recoveryWhenValues } from '@monk/model';
import type {
  ContainerSpec,
  FileSpec,
  JsonObject,
  JsonValue,
  Mount,
  PortMapping,
  ReadinessCheck,
  RecoveryMode,
  RecoveryPolicy,
  RecoveryWhen,
  ResolvedRunnable,
  PlacementConstraints,
  ResourceLimits,
  ResourceRequests,
  ServiceSpec,
} from '@monk/model';
import { parseExpression } from './arrow-bridge.ts';
import { parseBytes } from './compose/parse-units.ts';
import { renderGoTemplate } from './go-template.ts';
import { locate } from './merge-template.ts';
import type { ResolveContext, Scope } from './resolve-context.ts';
import { findSection, isObject, sectionEntries } from './sections.ts';
import { splitWords } from './split-words.ts';
import { resolveReference } from './template-path.ts';
import { toText } from './variable-types.ts';

/** What resolution keeps of a template without interpreting it yet (actions, hooks, ingress routes…). */
export type KeptSections = JsonObject;

/** Shown instead of a value derived from a secret. */
export const secretPlaceholder = '<secret>';

/** Readiness defaults when a template leaves them out. */
export const readinessDefaults = {
  initialDelaySeconds: 0,
  periodSeconds: 5,
  timeoutSeconds: 10,
  attempts: 10,
} as const;

const topLevelKeys = new Set([
  'defines',
  'inherits',
  'containers',
  'variables',
  'services',
  'connections',
  'files',
  'checks',
  'recovery',
  'depends',
  'scale',
  'resources',
  'affinity',
]);
const containerKeys = new Set([
  'image',
  'image-tag',
  'entrypoint',
  'bash',
  'cmd',
  'command',
  'environment',
  'ports',
  'paths',
  'workdir',
  'working-dir',
  'user',
  'privileged',
  'labels',
  'restart',
  'cap-add',
  'aliases',
  'init',
  'volumes',
  'hooks',
]);
/** Container events a hook can name; monkd fires `container-started`. */
const hookEvents = new Set(['container-started']);
const serviceKeys = new Set(['container', 'port', 'host-port', 'protocol', 'publish']);

interface RunnableState {
  readonly context: ResolveContext;
  readonly scope: Scope;
}

function invalid(state: RunnableState, options: { keyPath: string; message: string }): MonkError {
  const location =
    state.scope.merged.chain.length > 0 ? locate(state.scope.merged, options.keyPath) : undefined;
  const where =
    location === undefined
      ? state.scope.owner
      : `${location.file}:${location.line}:${location.column} (${location.path})`;
  return new MonkError('TEMPLATE_INVALID', `${where}: ${options.message}`, {
    ...(location === undefined ? {} : { location }),
  });
}

async function evaluate(
  state: RunnableState,
  at: { value: JsonValue | undefined; keyPath: string },
): Promise<JsonValue | undefined> {
  if (at.value === undefined) return undefined;
  const result = await state.context.evaluateValue(state.scope, { value: at.value, keyPath: at.keyPath });
  return result.value === null ? undefined : result.value;
}

async function evaluateText(
  state: RunnableState,
  at: { value: JsonValue | undefined; keyPath: string },
): Promise<string | undefined> {
  const value = await evaluate(state, at);
  if (value === undefined) return undefined;
  if (typeof value === 'object') throw invalid(state, { keyPath: at.keyPath, message: 'must be text' });
  return toText(value);
}

async function evaluateNumber(
  state: RunnableState,
  at: { value: JsonValue | undefined; keyPath: string; min?: number; max?: number },
): Promise<number | undefined> {
  const value = await evaluate(state, at);
  if (value === undefined || value === '') return undefined;
  const number =
    typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
  if (
    !Number.isFinite(number) ||
    (at.min !== undefined && number < at.min) ||
    (at.max !== undefined && number > at.max)
  ) {
    throw invalid(state, {
      keyPath: at.keyPath,
      message: `${JSON.stringify(value)} is not a valid number here`,
    });
  }
  return number;
}

async function evaluateList(
  state: RunnableState,
  at: { value: JsonValue | undefined; keyPath: string },
): Promise<JsonValue[]> {
  const value = await evaluate(state, at);
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(state, { keyPath: at.keyPath, message: 'must be a list' });
  return (value as JsonValue[]).filter((item) => item !== null);
}

function withTag(image: string, tag: string | undefined): string {
  if (tag === undefined || tag === '') return image;
  if (image.includes('@')) return image;
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  const base = colon > slash ? image.slice(0, colon) : image;
  return `${base}:${tag}`;
}

function commandOf(value: JsonValue | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return (value as JsonValue[]).map((item) => toText(item));
  return splitWords(toText(value));
}

function parsePort(state: RunnableState, at: { value: JsonValue; keyPath: string }): PortMapping {
  const text = toText(at.value).trim();
  const [spec = '', protocolText = 'tcp'] = text.split('/');
  const protocol = protocolText.toLowerCase();
  const parts = spec.split(':');
  const numbers = parts.map((part) => Number(part));
  const portOk = (port: number | undefined): port is number =>
    port !== undefined && Number.isInteger(port) && port >= 1 && port <= 65535;
  if ((protocol !== 'tcp' && protocol !== 'udp') || parts.length > 3) {
    throw invalid(state, {
      keyPath: at.keyPath,
      message: `"${text}" is not a port mapping (port, host:container or ip:host:container[/udp])`,
    });
  }
  if (parts.length === 1 && portOk(numbers[0]))
    return { containerPort: numbers[0], hostPort: numbers[0], protocol };
  if (parts.length === 2 && portOk(numbers[0]) && portOk(numbers[1]))
    return { hostPort: numbers[0], containerPort: numbers[1], protocol };
  if (parts.length === 3 && portOk(numbers[1]) && portOk(numbers[2])) {
    return { hostIp: parts[0] ?? '', hostPort: numbers[1], containerPort: numbers[2], protocol };
  }
  throw invalid(state, {
    keyPath: at.keyPath,
    message: `"${text}" is not a port mapping (port, host:container or ip:host:container[/udp])`,
  });
}

function parseMount(state: RunnableState, at: { value: JsonValue; keyPath: string }): Mount {
  const text = toText(at.value).trim();
  const parts = text.split(':');
  const [source = '', target = '', mode] = parts;
  if (
    parts.length < 2 ||
    parts.length > 3 ||
    source === '' ||
    !target.startsWith('/') ||
    (mode !== undefined && mode !== 'ro' && mode !== 'rw')
  ) {
    throw invalid(state, {
      keyPath: at.keyPath,
      message: `"${text}" is not a path mapping (host:container[:ro])`,
    });
  }
  return { kind: source.startsWith('/') ? 'bind' : 'volume', source, target, readOnly: mode === 'ro' };
}

/**
 * Evaluates `environment` (or `labels`): a map, a list of `NAME=value`, or an expression giving either.
 * Each entry is evaluated on its own so that only the values derived from a secret are sealed.
 */
async function environmentOf(
  state: RunnableState,
  at: { value: JsonValue | undefined; keyPath: string; seal: boolean },
): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  if (at.value === undefined) return result;
  const whole =
    isObject(at.value) || Array.isArray(at.value)
      ? undefined
      : await state.context.evaluateValue(state.scope, { value: at.value, keyPath: at.keyPath });
  const value = whole === undefined ? at.value : whole.value;
  if (value === undefined || value === null) return result;
  const entry = async (item: JsonValue, keyPath: string): Promise<{ text: string; secret: boolean }> => {
    if (whole !== undefined) return { text: toText(item), secret: whole.secret };
    const evaluated = await state.context.evaluateValue(state.scope, { value: item, keyPath });
    return { text: toText(evaluated.value ?? null), secret: evaluated.secret };
  };
  const sealed = async (text: string, secret: boolean): Promise<string> =>
    secret && at.seal ? state.context.seal(text) : text;
  if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      const { text, secret } = await entry(item, `${at.keyPath}/${key}`);
      result[key] = await sealed(text, secret);
    }
    return result;
  }
  if (!Array.isArray(value))
    throw invalid(state, { keyPath: at.keyPath, message: 'must be a list of NAME=value or a map' });
  for (const [index, item] of (value as JsonValue[]).entries()) {
    if (item === null) continue;
    const { text, secret } = await entry(item, `${at.keyPath}/${index}`);
    const equals = text.indexOf('=');
    if (equals === 0)
      throw invalid(state, {
        keyPath: at.keyPath,
        message: `"${secret ? '<secret>' : text}" has no variable name`,
      });
    if (equals < 0) result[text] = '';
    else result[text.slice(0, equals)] = await sealed(text.slice(equals + 1), secret);
  }
  return result;
}

/** Evaluates a value and says whether a secret went into it. */
async function evaluateTainted(
  state: RunnableState,
  at: { value: JsonValue | undefined; keyPath: string },
): Promise<{ value: JsonValue | undefined; secret: boolean }> {
  if (at.value === undefined) return { value: undefined, secret: false };
  const result = await state.context.evaluateValue(state.scope, { value: at.value, keyPath: at.keyPath });
  return { value: result.value === null ? undefined : result.value, secret: result.secret };
}

async function sealWords(state: RunnableState, words: string[] | undefined): Promise<string[] | undefined> {
  if (words === undefined) return undefined;
  return Promise.all(words.map((word) => state.context.seal(word)));
}

/** Runnable `resources.limits` (`cpus`, `memory-bytes` or `memory` with a unit) → the container limits. */
async function resourcesOf(
  state: RunnableState,
  section: { key: string; value: JsonObject } | undefined,
): Promise<ResourceLimits | undefined> {
  if (section === undefined) return undefined;
  const limits = section.value['limits'];
  if (limits === undefined) return undefined;
  const amounts = await amountsOf(state, { value: limits, keyPath: `${section.key}/limits` });
  return amounts.cpus === undefined && amounts.memoryBytes === undefined
    ? undefined
    : {
        ...(amounts.cpus === undefined ? {} : { cpus: amounts.cpus }),
        ...(amounts.memoryBytes === undefined ? {} : { memoryBytes: amounts.memoryBytes }),
      };
}

/**
 * Runnable `resources.requests` (or `reservations`, what Compose's `deploy.resources.reservations` becomes):
 * `cpus`, `memory-bytes` or `memory` with a unit, `gpus`: what each container asks the scheduler for.
 */
async function requestsOf(
  state: RunnableState,
  section: { key: string; value: JsonObject } | undefined,
): Promise<ResourceRequests | undefined> {
  if (section === undefined) return undefined;
  const key = section.value['requests'] === undefined ? 'reservations' : 'requests';
  const value = section.value[key];
  if (value === undefined) return undefined;
  const keyPath = `${section.key}/${key}`;
  const amounts = await amountsOf(state, { value, keyPath });
  const gpus = isObject(value)
    ? await evaluateNumber(state, { value: value['gpus'], keyPath: `${keyPath}/gpus`, min: 0 })
    : undefined;
  if (gpus !== undefined && !Number.isInteger(gpus)) {
    throw invalid(state, { keyPath: `${keyPath}/gpus`, message: 'gpus must be a whole number' });
  }
  const requests: ResourceRequests = {
    ...(amounts.cpus === undefined ? {} : { cpus: amounts.cpus }),
    ...(amounts.memoryBytes === undefined ? {} : { memoryBytes: amounts.memoryBytes }),
    ...(gpus === undefined || gpus === 0 ? {} : { gpus }),
  };
  return Object.keys(requests).length === 0 ? undefined : requests;
}

async function amountsOf(
  state: RunnableState,
  at: { value: JsonValue; keyPath: string },
): Promise<{ cpus?: number; memoryBytes?: number }> {
  const base = at.keyPath;
  const map = at.value;
  if (!isObject(map))
    throw invalid(state, { keyPath: base, message: `${base.split('/').pop() ?? base} must be a map` });
  const cpus = await evaluateNumber(state, { value: map['cpus'], keyPath: `${base}/cpus`, min: 0.001 });
  let memoryBytes = await evaluateNumber(state, {
    value: map['memory-bytes'],
    keyPath: `${base}/memory-bytes`,
    min: 1,
  });
  const memoryText = await evaluateText(state, { value: map['memory'], keyPath: `${base}/memory` });
  if (memoryBytes === undefined && memoryText !== undefined && memoryText !== '') {
    try {
      memoryBytes = parseBytes(memoryText);
    } catch (error) {
      throw invalid(state, {
        keyPath: `${base}/memory`,
        message: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return {
    ...(cpus === undefined ? {} : { cpus }),
    ...(memoryBytes === undefined ? {} : { memoryBytes: Math.trunc(memoryBytes) }),
  };
}

/**
 * The `recovery` section as Monk documents it: `when` (always, node-failure, container-failure, none; the
 * pressure conditions are not detected, so they recover nothing, with a warning), `after` (a duration,
 * `60s`, `2m`, or seconds) and `mode` (default, node, cluster). A container's Compose `restart` decides
 * restarts when `when` is absent.
 */
async function resolveRecovery(
  state: RunnableState,
  options: { section: { key: string; value: JsonObject } | undefined; containerRestart: string | undefined },
): Promise<RecoveryPolicy> {
  const key = options.section?.key ?? 'recovery';
  const raw = options.section?.value ?? {};
  const whenText = await evaluateText(state, { value: raw['when'], keyPath: `${key}/when` });
  let when: RecoveryWhen | undefined;
  if (whenText !== undefined) {
    const value = whenText.trim();
    if ((recoveryWhenValues as readonly string[]).includes(value)) when = value as RecoveryWhen;
    else if (pressureConditions.has(value)) {
      state.context.warnings.push(
        `${state.scope.owner}: recovery when "${value}" is not supported (monk does not watch node pressure); the runnable is not recovered`,
      );
      when = 'none';
    } else if (value === 'no' || value === 'never') when = 'none';
    else {
      throw invalid(state, {
        keyPath: `${key}/when`,
        message: `"${value}" is not one of ${recoveryWhenValues.join(', ')}`,
      });
    }
  }
  const restart: RecoveryPolicy['restart'] =
    when === 'none' || when === 'node-failure'
      ? 'no'
      : when !== undefined
        ? 'always'
        : (restartOf(options.containerRestart) ?? defaultRecoveryPolicy.restart);
  const afterSeconds = await evaluateSeconds(state, { value: raw['after'], keyPath: `${key}/after` });
  const modeText = await evaluateText(state, { value: raw['mode'], keyPath: `${key}/mode` });
  let mode: RecoveryMode | undefined;
  if (modeText !== undefined) {
    const value = modeText.trim();
    if (!(recoveryModeValues as readonly string[]).includes(value)) {
      throw invalid(state, {
        keyPath: `${key}/mode`,
        message: `"${value}" is not one of ${recoveryModeValues.join(', ')}`,
      });
    }
    mode = value as RecoveryMode;
    if (mode === 'node') {
      state.context.warnings.push(
        `${state.scope.owner}: recovery mode "node" creates no node in monk; a moved instance goes to a peer of the cluster`,
      );
    }
  }
  return {
    ...defaultRecoveryPolicy,
    restart,
    ...(when === undefined ? {} : { when }),
    ...(afterSeconds === undefined ? {} : { afterMs: Math.round(afterSeconds * 1000) }),
    ...(mode === undefined ? {} : { mode }),
  };
}

/** Monk's node-pressure recovery conditions, which monk does not watch. */
const pressureConditions: ReadonlySet<string> = new Set([
  'pressure',
  'memory-pressure',
  'cpu-pressure',
  'pid-pressure',
  'disk-pressure',
]);

/** A duration in seconds: a number (seconds) or text with a unit (`500ms`, `60s`, `2m`, `1h`, `1m30s`). */
async function evaluateSeconds(
  state: RunnableState,
  at: { value: JsonValue | undefined; keyPath: string; positive?: boolean },
): Promise<number | undefined> {
  const value = await evaluate(state, at);
  if (value === undefined || value === '') return undefined;
  const seconds =
    typeof value === 'number' ? value : typeof value === 'string' ? parseSeconds(value) : undefined;
  if (
    seconds === undefined ||
    !Number.isFinite(seconds) ||
    seconds < 0 ||
    (at.positive === true && seconds === 0)
  ) {
    throw invalid(state, {
      keyPath: at.keyPath,
      message: `${JSON.stringify(value)} is not a duration (seconds, or like 500ms, 60s, 2m, 1h)`,
    });
  }
  return seconds;
}

function parseSeconds(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const units: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * (units[p[2] ?? 's'] ?? 1), 0);
}

/**
 * Runnable `affinity` as Monk documents it: `tag` (a peer with that tag), `name` (the peer of that name),
 * `resident: true` (a peer of its own). `ignore-pressure` is accepted and has no effect.
 */
async function affinityOf(
  state: RunnableState,
  section: { key: string; value: JsonObject } | undefined,
): Promise<Omit<PlacementConstraints, 'requests'>> {
  if (section === undefined) return {};
  const tag = await evaluateText(state, { value: section.value['tag'], keyPath: `${section.key}/tag` });
  const name = await evaluateText(state, { value: section.value['name'], keyPath: `${section.key}/name` });
  const residentValue = await evaluate(state, {
    value: section.value['resident'],
    keyPath: `${section.key}/resident`,
  });
  if (residentValue !== undefined && typeof residentValue !== 'boolean') {
    throw invalid(state, { keyPath: `${section.key}/resident`, message: 'resident must be true or false' });
  }
  return {
    ...(tag === undefined || tag === '' ? {} : { tags: [tag] }),
    ...(name === undefined || name === '' ? {} : { peer: name }),
    ...(residentValue === true ? { resident: true } : {}),
  };
}

function restartOf(text: string | undefined): RecoveryPolicy['restart'] | undefined {
  switch (text) {
    case undefined:
      return undefined;
    case 'always':
    case 'unless-stopped':
    case 'container-failure':
      return 'always';
    case 'on-failure':
      return 'on-failure';
    case 'no':
    case 'none':
    case 'never':
      return 'no';
    default:
      return 'always';
  }
}

/** Resolves one runnable of a deployment into its containers, services, checks and ordering. */
export async function resolveRunnable(
  context: ResolveContext,
  scope: Scope,
): Promise<{ runnable: ResolvedRunnable; kept: KeptSections }> {
  const state: RunnableState = { context, scope };
  const definition = scope.merged.definition;
  const used = new Set<string>();
  const section = (descriptor: string): { key: string; value: JsonObject } | undefined => {
    const found = findSection(definition, descriptor);
    if (found !== undefined) used.add(found.key);
    return found;
  };

  // Every visible variable is evaluated: for `describe`, for env bindings and for file templates.
  const variables: Record<string, JsonValue> = {};
  const environment: Record<string, string> = {};
  // Secret variables, sealed, for the readiness check: `exec(…, $password)` then works at run time.
  const sealedVariables: Record<string, JsonValue> = {};
  const visible = [...scope.visible()];
  for (const [name, definer] of visible) {
    const evaluated = await context.variable(scope, name);
    if (evaluated?.value === undefined) continue;
    variables[name] = evaluated.secret ? secretPlaceholder : evaluated.value;
    if (evaluated.secret && context.host.sealSecret !== undefined)
      sealedVariables[name] = await context.seal(toText(evaluated.value));
    const env = definer.declarations.get(name)?.env;
    if (env !== undefined) {
      const text = toText(evaluated.value);
      environment[env] = evaluated.secret ? await context.seal(text) : text;
    }
  }

  const containersSection = section('containers');
  const containerEntries = sectionEntries(containersSection?.value);
  const kept: Record<string, JsonValue> = {};
  const containerKept: Record<string, JsonValue> = {};
  const containers: { key: string; spec: ContainerSpec; hooks?: Record<string, string> }[] = [];
  let containerRestart: string | undefined;
  const resourcesSection = section('resources');
  const resources = await resourcesOf(state, resourcesSection);
  const requests = await requestsOf(state, resourcesSection);
  const affinity = await affinityOf(state, section('affinity'));
  const placement: PlacementConstraints = {
    ...affinity,
    ...(requests === undefined ? {} : { requests }),
  };
  for (const [name, raw] of containerEntries) {
    const base = `${containersSection?.key ?? 'containers'}/${name}`;
    if (!isObject(raw)) throw invalid(state, { keyPath: base, message: 'a container must be a map' });
    const image = await evaluateText(state, { value: raw['image'], keyPath: `${base}/image` });
    if (image === undefined || image === '')
      throw invalid(state, { keyPath: base, message: `container ${name} has no image` });
    const tag = await evaluateText(state, { value: raw['image-tag'], keyPath: `${base}/image-tag` });
    const entrypointValue = await evaluateTainted(state, {
      value: raw['entrypoint'],
      keyPath: `${base}/entrypoint`,
    });
    const bashValue = await evaluateTainted(state, { value: raw['bash'], keyPath: `${base}/bash` });
    if (isObject(bashValue.value ?? null) || Array.isArray(bashValue.value))
      throw invalid(state, { keyPath: `${base}/bash`, message: 'must be text' });
    const bash = bashValue.value === undefined ? undefined : toText(bashValue.value);
    const commandValue = await evaluateTainted(state, {
      value: raw['cmd'] ?? raw['command'],
      keyPath: `${base}/${raw['cmd'] === undefined ? 'command' : 'cmd'}`,
    });
    let entrypoint = commandOf(entrypointValue.value);
    let command = commandOf(commandValue.value);
    if (entrypointValue.secret) entrypoint = await sealWords(state, entrypoint);
    if (commandValue.secret) command = await sealWords(state, command);
    // `bash` runs through a shell. Without an explicit entrypoint it replaces the image's entrypoint
    // (images such as certbot and minio have entrypoints that would swallow it); with one, the shell
    // command becomes the entrypoint's arguments.
    if (bash !== undefined && bash.trim() !== '') {
      const script = bashValue.secret ? await context.seal(bash) : bash;
      if (entrypoint === undefined) {
        entrypoint = ['/bin/sh', '-c'];
        command = [script];
      } else {
        command = ['/bin/sh', '-c', script];
      }
    }
    const explicitEnvironment = await environmentOf(state, {
      value: raw['environment'],
      keyPath: `${base}/environment`,
      seal: true,
    });
    const ports: PortMapping[] = [];
    for (const [index, item] of (
      await evaluateList(state, { value: raw['ports'], keyPath: `${base}/ports` })
    ).entries()) {
      ports.push(parsePort(state, { value: item, keyPath: `${base}/ports/${index}` }));
    }
    const mounts: Mount[] = [];
    for (const [index, item] of (
      await evaluateList(state, { value: raw['paths'], keyPath: `${base}/paths` })
    ).entries()) {
      mounts.push(parseMount(state, { value: item, keyPath: `${base}/paths/${index}` }));
    }
    // Anonymous volumes (Compose `volumes: [/data]`): `target[:ro]`, a fresh volume per container.
    for (const [index, item] of (
      await evaluateList(state, { value: raw['volumes'], keyPath: `${base}/volumes` })
    ).entries()) {
      const [target = '', mode, ...rest] = toText(item).trim().split(':');
      if (
        !target.startsWith('/') ||
        rest.length > 0 ||
        (mode !== undefined && mode !== 'ro' && mode !== 'rw')
      ) {
        throw invalid(state, {
          keyPath: `${base}/volumes/${index}`,
          message: `"${toText(item)}" is not an anonymous volume (/container/path[:ro])`,
        });
      }
      mounts.push({ kind: 'volume', source: '', target, readOnly: mode === 'ro' });
    }
    const aliases = (await evaluateList(state, { value: raw['aliases'], keyPath: `${base}/aliases` })).map(
      (item) => toText(item).trim(),
    );
    aliases.forEach((alias, index) => {
      if (!/^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/.test(alias))
        throw invalid(state, {
          keyPath: `${base}/aliases/${index}`,
          message: `"${alias}" is not a DNS name`,
        });
    });
    const init = await evaluate(state, { value: raw['init'], keyPath: `${base}/init` });
    if (init !== undefined && typeof init !== 'boolean')
      throw invalid(state, { keyPath: `${base}/init`, message: 'must be true or false' });
    const hooks: Record<string, string> = {};
    const hooksRaw = raw['hooks'];
    if (hooksRaw !== undefined && hooksRaw !== null) {
      if (!isObject(hooksRaw))
        throw invalid(state, { keyPath: `${base}/hooks`, message: 'hooks must map an event to an action' });
      for (const [event, action] of Object.entries(hooksRaw)) {
        if (typeof action !== 'string' || action.trim() === '')
          throw invalid(state, { keyPath: `${base}/hooks/${event}`, message: 'must name an action' });
        if (!hookEvents.has(event))
          context.warnings.push(
            `${scope.owner}: container ${name} hook "${event}" is not an event monk fires (${[...hookEvents].join(', ')}); ignored`,
          );
        else hooks[event] = action.trim();
      }
    }
    const labels = await environmentOf(state, {
      value: raw['labels'],
      keyPath: `${base}/labels`,
      seal: false,
    });
    const workingDir = await evaluateText(state, {
      value: raw['workdir'] ?? raw['working-dir'],
      keyPath: `${base}/workdir`,
    });
    const user = await evaluateText(state, { value: raw['user'], keyPath: `${base}/user` });
    const privileged = await evaluate(state, { value: raw['privileged'], keyPath: `${base}/privileged` });
    const capAdd = await evaluateList(state, { value: raw['cap-add'], keyPath: `${base}/cap-add` });
    containerRestart ??= await evaluateText(state, { value: raw['restart'], keyPath: `${base}/restart` });
    const spec: ContainerSpec = {
      image: withTag(image, tag),
      ...(entrypoint === undefined ? {} : { entrypoint }),
      ...(command === undefined ? {} : { command }),
      environment: { ...environment, ...explicitEnvironment },
      ports,
      mounts,
      files: [],
      ...(workingDir === undefined ? {} : { workingDir }),
      ...(user === undefined ? {} : { user }),
      labels,
      ...(privileged === true ? { privileged: true } : {}),
      ...(capAdd.length === 0 ? {} : { capAdd: capAdd.map((item) => toText(item)) }),
      ...(resources === undefined ? {} : { resources }),
      ...(aliases.length === 0 ? {} : { aliases: [...new Set(aliases)] }),
      ...(init === undefined ? {} : { init }),
    };
    containers.push({ key: name, spec, ...(Object.keys(hooks).length === 0 ? {} : { hooks }) });
    const extra = Object.fromEntries(Object.entries(raw).filter(([key]) => !containerKeys.has(key)));
    if (Object.keys(extra).length > 0) containerKept[name] = extra;
  }
  if (containers.length === 0) {
    throw invalid(state, {
      keyPath: containersSection?.key ?? '',
      message: `runnable ${scope.owner} has no containers`,
    });
  }
  const containerNamed = (
    name: string | undefined,
    keyPath: string,
  ): { key: string; spec: ContainerSpec } => {
    const found =
      name === undefined
        ? containers.length === 1
          ? containers[0]
          : undefined
        : containers.find((item) => item.key === name);
    if (found === undefined) {
      throw invalid(state, {
        keyPath,
        message:
          name === undefined
            ? 'name the container (container: …); this runnable has several'
            : `there is no container "${name}" (containers: ${containers.map((item) => item.key).join(', ')})`,
      });
    }
    return found;
  };

  const servicesSection = section('services');
  const services: ServiceSpec[] = [];
  const serviceKept: Record<string, JsonValue> = {};
  for (const [name, raw] of sectionEntries(servicesSection?.value)) {
    const base = `${servicesSection?.key ?? 'services'}/${name}`;
    if (!isObject(raw)) throw invalid(state, { keyPath: base, message: 'a service must be a map' });
    const protocolText =
      (await evaluateText(state, { value: raw['protocol'], keyPath: `${base}/protocol` })) ?? 'tcp';
    if (
      protocolText !== 'tcp' &&
      protocolText !== 'udp' &&
      protocolText !== 'http' &&
      protocolText !== 'custom'
    ) {
      throw invalid(state, {
        keyPath: `${base}/protocol`,
        message: `protocol "${protocolText}" is not tcp, udp, http or custom`,
      });
    }
    const port = await evaluateNumber(state, {
      value: raw['port'],
      keyPath: `${base}/port`,
      min: 0,
      max: 65535,
    });
    const hostPort = await evaluateNumber(state, {
      value: raw['host-port'],
      keyPath: `${base}/host-port`,
      min: 1,
      max: 65535,
    });
    const containerName = await evaluateText(state, {
      value: raw['container'],
      keyPath: `${base}/container`,
    });
    const publish = (await evaluate(state, { value: raw['publish'], keyPath: `${base}/publish` })) === true;
    if (protocolText !== 'custom' && port === undefined)
      throw invalid(state, { keyPath: base, message: `service ${name} has no port` });
    const service: ServiceSpec = {
      name,
      ...(containerName === undefined ? {} : { container: containerName }),
      port: port ?? 0,
      ...(hostPort === undefined ? {} : { hostPort }),
      protocol: protocolText,
      publish,
    };
    services.push(service);
    if (port !== undefined && port > 0) {
      const target = containerNamed(containerName, `${base}/container`);
      const protocol = protocolText === 'udp' ? 'udp' : 'tcp';
      const exists = target.spec.ports.some(
        (item) =>
          item.containerPort === port &&
          item.protocol === protocol &&
          (hostPort === undefined || item.hostPort === hostPort),
      );
      if (!exists)
        target.spec.ports.push({
          containerPort: port,
          ...(hostPort === undefined ? {} : { hostPort }),
          protocol,
        });
    }
    const extra = Object.fromEntries(Object.entries(raw).filter(([key]) => !serviceKeys.has(key)));
    if (Object.keys(extra).length > 0) serviceKept[name] = extra;
  }

  const filesSection = section('files');
  for (const [name, raw] of sectionEntries(filesSection?.value)) {
    const base = `${filesSection?.key ?? 'files'}/${name}`;
    if (!isObject(raw)) throw invalid(state, { keyPath: base, message: 'a file must be a map' });
    const path = await evaluateText(state, { value: raw['path'], keyPath: `${base}/path` });
    if (path === undefined || !path.startsWith('/'))
      throw invalid(state, { keyPath: `${base}/path`, message: `file ${name} needs an absolute path` });
    const target = containerNamed(
      await evaluateText(state, { value: raw['container'], keyPath: `${base}/container` }),
      `${base}/container`,
    );
    const contentsValue = await evaluateTainted(state, {
      value: raw['contents'],
      keyPath: `${base}/contents`,
    });
    if (isObject(contentsValue.value ?? null) || Array.isArray(contentsValue.value))
      throw invalid(state, { keyPath: `${base}/contents`, message: 'must be text' });
    const contents = contentsValue.value === undefined ? '' : toText(contentsValue.value);
    let secretFile = contentsValue.secret;
    const modeKey = raw['mode'] === undefined ? 'chmod' : 'mode';
    const mode =
      (await evaluateNumber(state, {
        value: raw[modeKey],
        keyPath: `${base}/${modeKey}`,
        min: 0,
        max: 0o7777,
      })) ?? 0o600;
    const raw_ = (await evaluate(state, { value: raw['raw'], keyPath: `${base}/raw` })) === true;
    const rendered = raw_
      ? contents
      : renderGoTemplate({
          text: contents,
          lookup: (variable) => {
            if (context.isSecret(scope, variable)) secretFile = true;
            return context.peek(scope, variable);
          },
          location: locate(scope.merged, `${base}/contents`),
          onUndefined: (variable) =>
            context.warnings.push(
              `${scope.owner}: file ${name} uses variable "${variable}", which is not defined; it renders as ""`,
            ),
        });
    const file: FileSpec = {
      path,
      contents: secretFile ? await context.seal(rendered) : rendered,
      mode: Math.trunc(mode),
    };
    target.spec.files.push(file);
  }

  const checksSection = section('checks');
  const resolveCheck = async (name: 'readiness' | 'liveness'): Promise<ReadinessCheck | undefined> => {
    const raw = checksSection?.value[name];
    if (!isObject(raw)) return undefined;
    const base = `${checksSection?.key ?? 'checks'}/${name}`;
    const codeValue = raw['code'];
    if (typeof codeValue !== 'string' || codeValue.trim() === '')
      throw invalid(state, { keyPath: base, message: `${name} needs code` });
    // `code: <- \`…\`` computes the check's code at resolve time; plain code is the check itself.
    const code = (await evaluateText(state, { value: codeValue, keyPath: `${base}/code` })) ?? '';
    parseExpression(code, locate(scope.merged, `${base}/code`));
    const timing = async (key: string, fallback: number, min: number): Promise<number> =>
      (await evaluateNumber(state, { value: raw[key], keyPath: `${base}/${key}`, min })) ?? fallback;
    const interval = await evaluateNumber(state, {
      value: raw['interval'],
      keyPath: `${base}/interval`,
      min: 0.001,
    });
    return {
      kind: 'arrow',
      code,
      runnable: scope.owner,
      ...(Object.keys(sealedVariables).length === 0 ? {} : { variables: sealedVariables }),
      initialDelaySeconds: await timing('initialDelay', readinessDefaults.initialDelaySeconds, 0),
      periodSeconds: interval ?? (await timing('period', readinessDefaults.periodSeconds, 0.001)),
      timeoutSeconds: await timing('timeout', readinessDefaults.timeoutSeconds, 0.001),
      attempts: Math.max(1, Math.trunc(await timing('attempts', readinessDefaults.attempts, 1))),
    };
  };
  const readiness = await resolveCheck('readiness');
  const liveness = await resolveCheck('liveness');
  if (definition['readiness'] !== undefined && checksSection === undefined) {
    context.warnings.push(
      `${scope.owner}: a top-level "readiness:" is ignored; readiness checks go under "checks:"`,
    );
  }

  const recovery = await resolveRecovery(state, { section: section('recovery'), containerRestart });
  const dependsSection = section('depends');
  const waitFor = dependsSection?.value['wait-for'];
  const dependsOn: string[] = [];
  if (isObject(waitFor)) {
    for (const [index, item] of (
      await evaluateList(state, {
        value: waitFor['runnables'],
        keyPath: `${dependsSection?.key ?? 'depends'}/wait-for/runnables`,
      })
    ).entries()) {
      const path = resolveReference(toText(item), scope.merged.record.namespace);
      if (path === undefined)
        throw invalid(state, {
          keyPath: `depends/wait-for/runnables/${index}`,
          message: `"${toText(item)}" is not a template path`,
        });
      if (!dependsOn.includes(path)) dependsOn.push(path);
    }
  }
  const waitForTimeoutSeconds = isObject(waitFor)
    ? await evaluateSeconds(state, {
        value: waitFor['timeout'],
        keyPath: `${dependsSection?.key ?? 'depends'}/wait-for/timeout`,
        positive: true,
      })
    : undefined;

  const connections: Record<string, string> = {};
  for (const [name] of sectionEntries(section('connections')?.value)) {
    const target = context.connection(scope, name).target;
    if (target !== undefined) connections[name] = target;
  }

  used.add('scale');
  const scale = (await evaluateNumber(state, { value: definition['scale'], keyPath: 'scale', min: 0 })) ?? 1;

  for (const [key, value] of Object.entries(definition)) {
    if (!used.has(key) && !topLevelKeys.has(key)) kept[key] = value;
  }
  if (Object.keys(containerKept).length > 0) kept['container-extras'] = containerKept;
  if (Object.keys(serviceKept).length > 0) kept['service-extras'] = serviceKept;

  return {
    runnable: {
      path: scope.owner,
      containers,
      services,
      dependsOn,
      connections,
      ...(readiness === undefined ? {} : { readiness }),
      ...(liveness === undefined ? {} : { liveness }),
      ...(waitForTimeoutSeconds === undefined ? {} : { waitForTimeoutSeconds }),
      recovery,
      variables,
      scale: Math.trunc(scale),
      ...(Object.keys(placement).length === 0 ? {} : { placement }),
    },
    kept,
  };
}
