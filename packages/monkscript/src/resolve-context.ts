import { randomUUID } from 'node:crypto';
import { MonkError } from '@monk/model';
import type { JsonObject, JsonValue, SourceLocation } from '@monk/model';
import { freeVariables, isArrowExpression, parseExpression, runExpression } from './arrow-bridge.ts';
import type { ArrowHost, ArrowProgram } from './arrow-bridge.ts';
import { locate, mergeTemplate } from './merge-template.ts';
import type { MergedTemplate } from './merge-template.ts';
import { findSection, isObject, sectionEntries } from './sections.ts';
import { resolveReference } from './template-path.ts';
import type { TemplateSource } from './template-source.ts';
import { coerceVariable } from './variable-types.ts';

/**
 * What resolution needs from the cluster. monkd implements it; tests use a fixed naming rule.
 *
 * @example
 * const host: ResolveHost = { hostnameOf: (path) => toDnsLabel(path.replace('/', '-')) };
 */
export interface ResolveHost {
  /** The DNS name monkd gives a runnable's instance; `connection-hostname` returns it. */
  hostnameOf(runnablePath: string): string;
  /** A secret's value for `secret(name)` in `runnablePath` (already checked against `permitted-secrets`). */
  secret?(name: string, runnablePath: string): Promise<string>;
  /** `connection-ip`: the IP of a runnable's instance. */
  ipOf?(runnablePath: string): Promise<string>;
  /**
   * `get-hostname(runnable, container)`: the DNS name of one container of a runnable. Without it,
   * `hostnameOf(runnable)`.
   */
  containerHostnameOf?(runnablePath: string, container: string): string;
  /** `get-container-ip(runnable, container)`: the IP of one container of a runnable. */
  containerIpOf?(runnablePath: string, container: string): Promise<string>;
  /** `connection-domain-name`: the public domain name of a runnable (ingress). */
  domainNameOf?(runnablePath: string): Promise<string>;
  /**
   * Runtime operators for expressions evaluated on behalf of `runnablePath` (`exec`, `http-get`,
   * `entity-state`, `random-uuid`, `get-resolver-ip`…), passed through to the Arrow evaluator. The
   * connection and secret operators are always answered by this package.
   */
  arrowHostFor?(runnablePath: string): ArrowHost;
  /**
   * `random-uuid`, stable per instance: the UUID for the call identified by `key` (the template path and
   * key path of the expression, plus the call's position in it). Return the same UUID for the same key on
   * every resolution (`monk update` must not rotate generated passwords). Without it, UUIDs are random.
   */
  randomUuid?(key: string): string;
  /**
   * Protects a value derived from a secret before it goes into a `ContainerSpec` (environment values,
   * command words, file contents), so that the resolved spec can be stored and shown without the secret.
   * monkd encrypts it; whoever creates the container reverses it. Without it, values stay as they are.
   */
  sealSecret?(value: string): Promise<string>;
}

/** Runs `compute` and turns what it returns or throws into a promise (host methods must not throw). */
function settle<T>(compute: () => T): Promise<T> {
  try {
    return Promise.resolve(compute());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** One declared variable of a template (or one added with an override). */
interface VariableDeclaration {
  readonly name: string;
  readonly type: string | undefined;
  readonly value: JsonValue | undefined;
  readonly env: string | undefined;
  readonly required: boolean;
  readonly keyPath: string;
  readonly override?: string;
}

/** A value and whether a secret went into it. */
export interface Evaluated {
  readonly value: JsonValue | undefined;
  readonly secret: boolean;
}

/**
 * The variables of one template in a deployment: its own declarations (inheritance applied), then its
 * group's scope, then the built-ins.
 */
export class Scope {
  readonly owner: string;
  readonly merged: MergedTemplate;
  readonly parent: Scope | undefined;
  readonly declarations: Map<string, VariableDeclaration>;
  /** The variables the template itself declares (inheritance applied), before `--set` adds any. */
  readonly declared: ReadonlySet<string>;
  readonly values = new Map<string, Evaluated>();

  constructor(options: {
    merged: MergedTemplate;
    parent: Scope | undefined;
    overrides: ReadonlyMap<string, string> | undefined;
  }) {
    this.owner = options.merged.record.path;
    this.merged = options.merged;
    this.parent = options.parent;
    this.declarations = readDeclarations(options.merged);
    this.declared = new Set(this.declarations.keys());
    for (const [name, text] of options.overrides ?? []) {
      const declared = this.declarations.get(name);
      this.declarations.set(
        name,
        declared === undefined
          ? {
              name,
              type: undefined,
              value: text,
              env: undefined,
              required: false,
              keyPath: `variables/${name}`,
              override: text,
            }
          : { ...declared, override: text },
      );
    }
  }

  /** The scope (this one or an ancestor) that declares `name`. */
  definer(name: string): Scope | undefined {
    if (this.declarations.has(name)) return this;
    return this.parent?.definer(name);
  }

  /** Every variable visible here, mapped to the scope that declares it (nearest first wins). */
  visible(): Map<string, Scope> {
    const result = this.parent?.visible() ?? new Map<string, Scope>();
    for (const name of this.declarations.keys()) {
      result.delete(name);
      result.set(name, this);
    }
    return result;
  }
}

function readDeclarations(merged: MergedTemplate): Map<string, VariableDeclaration> {
  const declarations = new Map<string, VariableDeclaration>();
  const section = findSection(merged.definition, 'variables');
  for (const [name, raw] of sectionEntries(section?.value)) {
    const keyPath = `${section?.key ?? 'variables'}/${name}`;
    const spec: JsonObject = isObject(raw) ? raw : { value: raw };
    const type = spec['type'];
    const env = spec['env'];
    declarations.set(name, {
      name,
      type: typeof type === 'string' ? type : undefined,
      value: spec['value'],
      env: typeof env === 'string' && env !== '' ? env : undefined,
      required: spec['required'] === true,
      keyPath,
    });
  }
  return declarations;
}

/** Shared state of one resolution: merged templates, scopes, the evaluation stack, warnings. */
export class ResolveContext {
  readonly templates: TemplateSource;
  readonly host: ResolveHost;
  readonly volumeRoot: string;
  readonly warnings: string[] = [];
  readonly mergeCache = new Map<string, MergedTemplate>();
  /** Scopes of the runnables and groups being deployed, by path. */
  readonly scopes = new Map<string, Scope>();
  readonly overrides: ReadonlyMap<string, ReadonlyMap<string, string>>;
  private readonly programs = new Map<string, ArrowProgram>();
  private readonly evaluating: string[] = [];

  constructor(options: {
    templates: TemplateSource;
    host: ResolveHost;
    volumeRoot: string;
    overrides: ReadonlyMap<string, ReadonlyMap<string, string>>;
  }) {
    this.templates = options.templates;
    this.host = options.host;
    this.volumeRoot = options.volumeRoot;
    this.overrides = options.overrides;
  }

  merge(path: string): MergedTemplate {
    return mergeTemplate({ path, templates: this.templates, cache: this.mergeCache });
  }

  /** Creates (once) the scope of a template of the deployment. */
  addScope(options: { path: string; parent: Scope | undefined }): Scope {
    const existing = this.scopes.get(options.path);
    if (existing !== undefined) return existing;
    const scope = new Scope({
      merged: this.merge(options.path),
      parent: options.parent,
      overrides: this.overrides.get(options.path),
    });
    this.scopes.set(options.path, scope);
    return scope;
  }

  /** The scope of a runnable: its deployment scope, or a standalone one for a runnable outside it. */
  scopeOf(path: string): Scope {
    return this.scopes.get(path) ?? this.addScope({ path, parent: undefined });
  }

  builtin(name: string): JsonValue | undefined {
    return name === 'monk-volume-path' || name === 'volume-path' ? this.volumeRoot : undefined;
  }

  /** The value of a variable as seen from `scope` (evaluated on first use). */
  async variable(scope: Scope, name: string): Promise<Evaluated | undefined> {
    const definer = scope.definer(name);
    if (definer === undefined) {
      const value = this.builtin(name);
      return value === undefined ? undefined : { value, secret: false };
    }
    const cached = definer.values.get(name);
    if (cached !== undefined) return cached;
    const key = `${definer.owner}#${name}`;
    if (this.evaluating.includes(key)) {
      const cycle = [...this.evaluating.slice(this.evaluating.indexOf(key)), key];
      throw new MonkError('VARIABLE_INVALID', `variables refer to each other: ${cycle.join(' → ')}`, {
        location: locate(definer.merged, `variables/${name}`),
        details: { cycle },
      });
    }
    this.evaluating.push(key);
    try {
      const result = await this.evaluateDeclaration(definer, name);
      definer.values.set(name, result);
      return result;
    } finally {
      this.evaluating.pop();
    }
  }

  private async evaluateDeclaration(scope: Scope, name: string): Promise<Evaluated> {
    const declaration = scope.declarations.get(name);
    if (declaration === undefined) return { value: undefined, secret: false };
    const location = locate(scope.merged, `${declaration.keyPath}/value`);
    let evaluated: Evaluated;
    if (declaration.override !== undefined) evaluated = { value: declaration.override, secret: false };
    else if (declaration.value === undefined || declaration.value === null)
      evaluated = { value: undefined, secret: false };
    else
      evaluated = await this.evaluateValue(scope, {
        value: declaration.value,
        keyPath: `${declaration.keyPath}/value`,
      });
    if (evaluated.value === undefined || evaluated.value === null) {
      if (declaration.required) {
        throw new MonkError(
          'VARIABLE_REQUIRED',
          `variable ${name} of ${scope.owner} is required but has no value; set it with --set ${scope.owner}/${name}=…`,
          {
            location,
            details: { variable: name, template: scope.owner },
          },
        );
      }
      return { value: undefined, secret: evaluated.secret };
    }
    return {
      value: coerceVariable({ name, type: declaration.type, value: evaluated.value, location }),
      secret: evaluated.secret,
    };
  }

  /** Evaluates every `<-` expression inside a value (strings, lists, maps), in the scope's variables. */
  async evaluateValue(scope: Scope, at: { value: JsonValue; keyPath: string }): Promise<Evaluated> {
    const { value, keyPath } = at;
    if (typeof value === 'string') {
      if (!isArrowExpression(value)) return { value, secret: false };
      return this.evaluateCode(scope, { code: value, location: locate(scope.merged, keyPath) });
    }
    if (Array.isArray(value)) {
      let secret = false;
      const items: JsonValue[] = [];
      for (const [index, item] of (value as readonly JsonValue[]).entries()) {
        const result = await this.evaluateValue(scope, { value: item, keyPath: `${keyPath}/${index}` });
        secret ||= result.secret;
        items.push(result.value ?? null);
      }
      return { value: items, secret };
    }
    if (isObject(value)) {
      let secret = false;
      const entries: Record<string, JsonValue> = {};
      for (const [key, item] of Object.entries(value)) {
        const result = await this.evaluateValue(scope, { value: item, keyPath: `${keyPath}/${key}` });
        secret ||= result.secret;
        entries[key] = result.value ?? null;
      }
      return { value: entries, secret };
    }
    return { value, secret: false };
  }

  /**
   * Evaluates Arrow code (with or without `<-`) in a scope: the variables it reads are evaluated first.
   * `locals` (action arguments) shadow the scope's variables; `extraHost` adds operators (`act`).
   */
  async evaluateCode(
    scope: Scope,
    at: {
      code: string;
      location: SourceLocation;
      locals?: Readonly<Record<string, JsonValue>>;
      extraHost?: ArrowHost;
    },
  ): Promise<Evaluated> {
    let program = this.programs.get(at.code);
    if (program === undefined) {
      program = parseExpression(at.code, at.location);
      this.programs.set(at.code, program);
    }
    const locals = at.locals ?? {};
    let secret = false;
    for (const name of freeVariables(program)) {
      if (Object.hasOwn(locals, name)) continue;
      const dependency = await this.variable(scope, name);
      secret ||= dependency?.secret ?? false;
    }
    const taint = { secret: false };
    const value = await runExpression(program, {
      scope: {
        lookup: (name) => (Object.hasOwn(locals, name) ? locals[name] : this.peek(scope, name)),
      },
      host: { ...this.arrowHost(scope, { taint, key: at.location.path }), ...at.extraHost },
      location: at.location,
    });
    return { value, secret: secret || taint.secret };
  }

  /** Whether an evaluated variable visible in `scope` was derived from a secret. */
  isSecret(scope: Scope, name: string): boolean {
    return scope.definer(name)?.values.get(name)?.secret ?? false;
  }

  /** Seals a secret-derived text through the host (unchanged without `sealSecret`). */
  async seal(value: string): Promise<string> {
    return this.host.sealSecret === undefined ? value : this.host.sealSecret(value);
  }

  /** A variable's value if already evaluated (expressions evaluate their dependencies first). */
  peek(scope: Scope, name: string): JsonValue | undefined {
    const definer = scope.definer(name);
    if (definer === undefined) return this.builtin(name);
    return definer.values.get(name)?.value;
  }

  /** The connection `name` of a scope's template: its target path, or undefined for an optional one. */
  connection(scope: Scope, name: string): { target: string | undefined; service: string | undefined } {
    for (let current: Scope | undefined = scope; current !== undefined; current = current.parent) {
      const section = findSection(current.merged.definition, 'connections');
      const entry = section?.value[name];
      if (!isObject(entry)) continue;
      const text = typeof entry['runnable'] === 'string' ? entry['runnable'] : entry['target'];
      const service = entry['service'];
      const target =
        typeof text === 'string' ? resolveReference(text, current.merged.record.namespace) : undefined;
      if (target === undefined && entry['optional'] !== true) {
        throw new MonkError('TEMPLATE_INVALID', `connection ${name} of ${current.owner} names no runnable`, {
          location: locate(current.merged, `${section?.key ?? 'connections'}/${name}`),
        });
      }
      return { target, service: typeof service === 'string' ? service : undefined };
    }
    throw new MonkError('ARROW_EVAL', `${scope.owner} has no connection named "${name}"`, {
      details: { template: scope.owner, connection: name },
    });
  }

  /** The port of a runnable's service (evaluated in that runnable's scope). */
  async servicePort(options: {
    target: string;
    service: string | undefined;
    connection: string;
  }): Promise<number> {
    const scope = this.scopeOf(options.target);
    const section = findSection(scope.merged.definition, 'services');
    const services = sectionEntries(section?.value);
    const chosen =
      options.service === undefined
        ? services.length === 1
          ? services[0]
          : undefined
        : services.find(([name]) => name === options.service);
    if (chosen === undefined || !isObject(chosen[1])) {
      throw new MonkError(
        'ARROW_EVAL',
        `connection ${options.connection}: ${options.target} has no service ${options.service === undefined ? '(name one with service:)' : `"${options.service}"`}`,
        { details: { target: options.target, service: options.service ?? null } },
      );
    }
    const port = chosen[1]['port'];
    const evaluated =
      port === undefined
        ? { value: 0 }
        : await this.evaluateValue(scope, {
            value: port,
            keyPath: `${section?.key ?? 'services'}/${chosen[0]}/port`,
          });
    const number = Number(evaluated.value);
    if (!Number.isInteger(number)) {
      throw new MonkError(
        'TEMPLATE_INVALID',
        `service ${chosen[0]} of ${options.target} has no numeric port`,
        {
          location: locate(scope.merged, `${section?.key ?? 'services'}/${chosen[0]}/port`),
        },
      );
    }
    return number;
  }

  private arrowHost(scope: Scope, call: { taint: { secret: boolean }; key: string }): ArrowHost {
    const { taint } = call;
    const extra = this.host.arrowHostFor?.(scope.owner) ?? {};
    const stableUuid = this.host.randomUuid?.bind(this.host);
    const containerIpOf = this.host.containerIpOf?.bind(this.host);
    let uuids = 0;
    const target = (name: string): string => {
      const found = this.connection(scope, name).target;
      if (found === undefined)
        throw new MonkError(
          'ARROW_EVAL',
          `connection ${name} of ${scope.owner} is optional and not connected`,
        );
      return found;
    };
    const permitted = findSection(scope.merged.definition, 'permitted-secrets')?.value ?? {};
    return {
      randomUuid: () => randomUUID(),
      ...extra,
      ...(stableUuid === undefined ? {} : { randomUuid: () => stableUuid(`${call.key}#${uuids++}`) }),
      connectionHostname: (name) =>
        settle(() => {
          const found = this.connection(scope, name).target;
          return found === undefined ? '' : this.host.hostnameOf(found);
        }),
      connectionPort: async (name) => {
        const found = this.connection(scope, name);
        if (found.target === undefined) return 0;
        return this.servicePort({ target: found.target, service: found.service, connection: name });
      },
      connectionTarget: (name) => settle(() => target(name)),
      connectionIp: async (name) => {
        const path = target(name);
        if (this.host.ipOf === undefined)
          throw new MonkError('ARROW_EVAL', 'connection-ip is not available at resolve time');
        return this.host.ipOf(path);
      },
      connectionDomainName: async (name) => {
        const path = target(name);
        if (this.host.domainNameOf === undefined)
          throw new MonkError('ARROW_EVAL', 'connection-domain-name is not available at resolve time');
        return this.host.domainNameOf(path);
      },
      getHostname: (runnable, container) =>
        settle(() => {
          const path = resolveReference(runnable, scope.merged.record.namespace) ?? runnable;
          return this.host.containerHostnameOf?.(path, container) ?? this.host.hostnameOf(path);
        }),
      ...(containerIpOf === undefined
        ? {}
        : {
            getContainerIp: (runnable: string, container: string) =>
              containerIpOf(resolveReference(runnable, scope.merged.record.namespace) ?? runnable, container),
          }),
      secret: async (name) => {
        taint.secret = true;
        if (permitted[name] !== true) {
          throw new MonkError(
            'SECRET_NOT_PERMITTED',
            `${scope.owner} reads secret "${name}" but does not list it in permitted-secrets`,
            {
              details: { template: scope.owner, secret: name },
            },
          );
        }
        if (this.host.secret === undefined) {
          throw new MonkError('SECRET_NOT_FOUND', `secret "${name}" is not available here`, {
            details: { secret: name },
          });
        }
        return this.host.secret(name, scope.owner);
      },
    };
  }
}
