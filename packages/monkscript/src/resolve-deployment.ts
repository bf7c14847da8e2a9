import { MonkError } from '@monk/model';
import type { JsonObject, JsonValue, ResolvedRunnable } from '@monk/model';
import { kindOf } from './build-records.ts';
import { locate } from './merge-template.ts';
import { referencesOf } from './references.ts';
import { ResolveContext } from './resolve-context.ts';
import type { ResolveHost, Scope } from './resolve-context.ts';
import { resolveRunnable } from './resolve-runnable.ts';
import type { KeptSections } from './resolve-runnable.ts';
import { resolveReference } from './template-path.ts';
import type { TemplateKind } from './template-record.ts';
import { isKnownPath } from './template-source.ts';
import type { TemplateSource } from './template-source.ts';

/** Options of {@link resolveDeployment}. */
export interface ResolveDeploymentOptions {
  /** The runnable or group to run (`ns/name`, `/ns/name`). */
  readonly path: string;
  readonly templates: TemplateSource;
  /**
   * `monk run --set` values: `ns/template/variable` → value sets a variable of that template (declared
   * or not); a bare `variable` → value applies to the template being run (for a group, its members see
   * it unless they declare the variable themselves).
   */
  readonly overrides?: Readonly<Record<string, string>>;
  readonly host: ResolveHost;
  /** The host folder `${monk-volume-path}` / `${volume-path}` stand for. */
  readonly volumeRoot: string;
  /**
   * Refuse (`VARIABLE_UNKNOWN`) an override that names a variable its template does not declare, or a
   * template that is not part of the deployment, instead of warning about it.
   */
  readonly strict?: boolean;
}

/** A deployment resolved into runnables, in dependency order (what a runnable waits for comes first). */
export interface ResolvedDeployment {
  readonly path: string;
  readonly kind: TemplateKind;
  readonly runnables: ResolvedRunnable[];
  readonly warnings: string[];
  /**
   * Sections monk keeps without interpreting yet, by template path (runnables and groups): `actions`,
   * `balancers`, `volumes`, `permitted-secrets`, `metadata`, container `hooks`
   * (`container-extras`), service `ingress-routes` (`service-extras`)…
   */
  readonly sections: Readonly<Record<string, KeptSections>>;
}

function memberPaths(scope: Scope): { path: string; keyPath: string }[] {
  const result: { path: string; keyPath: string }[] = [];
  for (const key of ['runnable-list', 'members']) {
    const list = scope.merged.definition[key];
    if (!Array.isArray(list)) continue;
    (list as readonly JsonValue[]).forEach((item, index) => {
      const path =
        typeof item === 'string' ? resolveReference(item, scope.merged.record.namespace) : undefined;
      if (path === undefined) {
        throw new MonkError(
          'TEMPLATE_INVALID',
          `${scope.owner}: member ${JSON.stringify(item)} is not a template path`,
          {
            location: locate(scope.merged, `${key}/${index}`),
          },
        );
      }
      result.push({ path, keyPath: `${key}/${index}` });
    });
  }
  return result;
}

/** Every template path reachable from `root` (inherits, members, connections, wait-for, entity types) that is not loaded. */
function findMissing(templates: TemplateSource, root: string): string[] {
  const missing = new Set<string>();
  const seen = new Set<string>();
  const queue = [root];
  while (queue.length > 0) {
    const path = queue.pop() ?? '';
    if (seen.has(path)) continue;
    seen.add(path);
    const record = templates.get(path);
    if (record === undefined) {
      if (!isKnownPath(templates, path)) missing.add(path);
      continue;
    }
    for (const reference of referencesOf(record)) {
      if (templates.get(reference.path) !== undefined) queue.push(reference.path);
      else if (!isKnownPath(templates, reference.path)) missing.add(reference.path);
    }
  }
  return [...missing].sort();
}

function parseOverrides(options: {
  overrides: Readonly<Record<string, string>>;
  root: string;
  namespace: string;
}): Map<string, Map<string, string>> {
  const result = new Map<string, Map<string, string>>();
  for (const [key, value] of Object.entries(options.overrides)) {
    const cut = key.lastIndexOf('/');
    const owner = cut < 0 ? options.root : resolveReference(key.slice(0, cut), options.namespace);
    const name = key.slice(cut + 1);
    if (owner === undefined || name === '') {
      throw new MonkError(
        'VARIABLE_INVALID',
        `--set ${key}: expected variable=value or namespace/template/variable=value`,
        {
          details: { override: key },
        },
      );
    }
    const map = result.get(owner) ?? new Map<string, string>();
    map.set(name, value);
    result.set(owner, map);
  }
  return result;
}

/**
 * The overrides that reach nothing: a variable that its template (or, for a member, an enclosing group)
 * does not declare and that neither it nor a member that does not declare it mentions (kits read
 * undeclared variables with `$name default(…)`), or a template that is not part of the deployment. Each
 * message names the variable and the template, and lists the variables the template has. Values are never
 * repeated.
 */
function unknownOverrides(options: {
  context: ResolveContext;
  root: string;
  bare: Readonly<Record<string, string>>;
}): { key: string; message: string }[] {
  const { context, root } = options;
  const result: { key: string; message: string }[] = [];
  const keyOf = (owner: string, name: string): string =>
    Object.hasOwn(options.bare, name) && owner === root ? name : `${owner}/${name}`;
  for (const [owner, names] of context.overrides) {
    const scope = context.scopes.get(owner);
    if (scope === undefined) {
      for (const name of names.keys()) {
        result.push({
          key: keyOf(owner, name),
          message: `--set ${keyOf(owner, name)}: ${owner} is not part of ${root}; ignored`,
        });
      }
      continue;
    }
    for (const name of names.keys()) {
      if (scope.declared.has(name) || scope.parent?.definer(name) !== undefined) continue;
      const reach = [...context.scopes.values()].filter((s) => s === scope || descendsFrom(s, scope));
      if (reach.some((s) => !s.declared.has(name) && mentions(s.merged.definition, name))) continue;
      const has = [...scope.declared].sort();
      const declaredBelow = reach
        .filter((s) => s !== scope && s.declared.has(name))
        .map((s) => s.owner)
        .sort();
      const hint =
        declaredBelow.length === 0
          ? ''
          : `; ${declaredBelow.join(', ')} ${declaredBelow.length === 1 ? 'declares' : 'declare'} it: use --set ${declaredBelow[0] ?? ''}/${name}=VALUE`;
      result.push({
        key: keyOf(owner, name),
        message: `--set ${keyOf(owner, name)}: ${owner} declares no variable "${name}" (${has.length === 0 ? 'it declares none' : `its variables: ${has.join(', ')}`})${hint}`,
      });
    }
  }
  return result;
}

/**
 * True when a string anywhere in `value` refers to the variable `name` the ways MonkScript does: `$name`
 * and `${name}` in Arrow code and template strings, `"name"` in Go templates (`{{ v "name" }}`).
 */
function mentions(value: JsonValue, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const word = new RegExp(`(\\$\\{?|["'])${escaped}($|[^A-Za-z0-9_-])`);
  const visit = (item: JsonValue): boolean => {
    if (typeof item === 'string') return word.test(item);
    if (Array.isArray(item)) return (item as readonly JsonValue[]).some(visit);
    if (typeof item === 'object' && item !== null) return Object.values(item).some(visit);
    return false;
  };
  return visit(value);
}

function descendsFrom(scope: Scope, ancestor: Scope): boolean {
  for (let at = scope.parent; at !== undefined; at = at.parent) if (at === ancestor) return true;
  return false;
}

function orderByDependencies(runnables: readonly ResolvedRunnable[]): ResolvedRunnable[] {
  const byPath = new Map(runnables.map((runnable) => [runnable.path, runnable]));
  const ordered: ResolvedRunnable[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (runnable: ResolvedRunnable, stack: string[]): void => {
    const current = state.get(runnable.path);
    if (current === 'done') return;
    if (current === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(runnable.path)), runnable.path];
      throw new MonkError('TEMPLATE_CYCLE', `runnables wait for each other: ${cycle.join(' → ')}`, {
        details: { cycle },
      });
    }
    state.set(runnable.path, 'visiting');
    for (const dependency of runnable.dependsOn) {
      const target = byPath.get(dependency);
      if (target !== undefined) visit(target, [...stack, runnable.path]);
    }
    state.set(runnable.path, 'done');
    ordered.push(runnable);
  };
  for (const runnable of runnables) visit(runnable, []);
  return ordered;
}

/**
 * Resolves a runnable, process-group or group into concrete runnables: inheritance applied, variables
 * evaluated (own, then the enclosing groups', then `--set` overrides on top), Arrow expressions run,
 * connections resolved through `host`, files rendered, readiness and recovery filled with defaults.
 *
 * @throws MonkError `TEMPLATE_NOT_FOUND` listing every template the deployment needs that is not loaded
 *   (`details.missing`), `TEMPLATE_INVALID`, `TEMPLATE_CYCLE`, `VARIABLE_INVALID`, `VARIABLE_REQUIRED`,
 *   `ARROW_SYNTAX`, `ARROW_EVAL`, `SECRET_NOT_PERMITTED`, `SECRET_NOT_FOUND` — with the template location;
 *   `VARIABLE_UNKNOWN` with `strict` when a `--set` names a variable its template does not declare (without
 *   `strict` that is a warning naming the variable, the template and the variables it has).
 * @example
 * const deployment = await resolveDeployment({
 *   path: 'wordpress-mysql/stack',
 *   templates: createTemplateSource(templates),
 *   host: { hostnameOf: (path) => toDnsLabel(path.replace('/', '-')) },
 *   volumeRoot: '/var/lib/monk/volumes',
 * });
 */
export async function resolveDeployment(options: ResolveDeploymentOptions): Promise<ResolvedDeployment> {
  const { root, kind, context, runnableScopes, sections } = prepareDeployment(options);
  const resolved: ResolvedRunnable[] = [];
  for (const scope of runnableScopes) {
    const { runnable, kept } = await resolveRunnable(context, scope);
    resolved.push(runnable);
    if (Object.keys(kept).length > 0) sections[scope.owner] = kept;
  }
  return { path: root, kind, runnables: orderByDependencies(resolved), warnings: context.warnings, sections };
}

/** A deployment's templates merged and its scopes built, before any runnable is resolved. */
export interface PreparedDeployment {
  readonly root: string;
  readonly kind: TemplateKind;
  readonly context: ResolveContext;
  readonly runnableScopes: Scope[];
  readonly sections: Record<string, KeptSections>;
}

/** Checks a deployment's templates are loaded and builds the scopes of its runnables and groups. */
export function prepareDeployment(options: ResolveDeploymentOptions): PreparedDeployment {
  const root = resolveReference(options.path, '');
  if (root === undefined || !options.path.includes('/')) {
    throw new MonkError(
      'INVALID_REQUEST',
      `"${options.path}" is not a template path; expected namespace/name`,
    );
  }
  const missing = findMissing(options.templates, root);
  if (missing.length > 0) {
    const first = missing.length === 1 && missing[0] === root;
    throw new MonkError(
      'TEMPLATE_NOT_FOUND',
      first
        ? `no template ${root} is loaded`
        : `${root} needs templates that are not loaded: ${missing.join(', ')}`,
      { details: { path: root, missing } },
    );
  }
  const rootRecord = options.templates.get(root);
  const namespace = rootRecord?.namespace ?? root.split('/')[0] ?? '';
  const context = new ResolveContext({
    templates: options.templates,
    host: options.host,
    volumeRoot: options.volumeRoot,
    overrides: parseOverrides({ overrides: options.overrides ?? {}, root, namespace }),
  });
  const rootMerged = context.merge(root);
  const kind = kindOf(rootMerged.definition['defines']) ?? 'base';
  const runnableScopes: Scope[] = [];
  const sections: Record<string, KeptSections> = {};

  const collect = (at: { path: string; parent: Scope | undefined; stack: string[] }): void => {
    const merged = context.merge(at.path);
    const memberKind = kindOf(merged.definition['defines']) ?? 'base';
    switch (memberKind) {
      case 'runnable': {
        if (context.scopes.has(at.path)) return;
        runnableScopes.push(context.addScope({ path: at.path, parent: at.parent }));
        return;
      }
      case 'process-group':
      case 'group': {
        if (at.stack.includes(at.path)) {
          const cycle = [...at.stack.slice(at.stack.indexOf(at.path)), at.path];
          throw new MonkError('TEMPLATE_CYCLE', `groups contain each other: ${cycle.join(' → ')}`, {
            details: { cycle },
          });
        }
        const scope = context.addScope({ path: at.path, parent: at.parent });
        const keptGroup = Object.fromEntries(
          Object.entries(merged.definition).filter(
            ([key]) => !['defines', 'inherits', 'variables', 'runnable-list', 'members'].includes(key),
          ),
        );
        if (Object.keys(keptGroup).length > 0) sections[at.path] = keptGroup;
        for (const member of memberPaths(scope))
          collect({ path: member.path, parent: scope, stack: [...at.stack, at.path] });
        return;
      }
      case 'service':
      case 'entity':
      case 'entity-instance':
      case 'module':
        context.warnings.push(
          `${at.path} is a ${memberKind}; monk does not run ${memberKind}s yet, so it is left out`,
        );
        return;
      case 'base':
        throw new MonkError(
          'TEMPLATE_INVALID',
          `${at.path} defines nothing (no "defines:"); only runnables and groups can run`,
          {
            location: locate(merged, ''),
          },
        );
    }
  };
  if (kind !== 'runnable' && kind !== 'process-group' && kind !== 'group') {
    throw new MonkError('TEMPLATE_INVALID', `${root} is a ${kind}; only runnables and groups can run`, {
      location: locate(rootMerged, ''),
    });
  }
  collect({ path: root, parent: undefined, stack: [] });
  const unknown = unknownOverrides({ context, root, bare: options.overrides ?? {} });
  if (unknown.length > 0 && options.strict === true) {
    throw new MonkError('VARIABLE_UNKNOWN', unknown.map((u) => u.message).join('; '), {
      details: { variables: unknown.map((u) => u.key) },
    });
  }
  context.warnings.push(...unknown.map((u) => u.message));
  return { root, kind, context, runnableScopes, sections };
}

/**
 * The merged definition of a template (inheritance applied, `inherits` removed), as `monk dump` shows it.
 *
 * @throws MonkError `TEMPLATE_NOT_FOUND`, `TEMPLATE_CYCLE`.
 * @example
 * dumpTemplate({ path: 'postgresql/db', templates }).containers;
 */
export function dumpTemplate(options: { path: string; templates: TemplateSource }): JsonObject {
  const path = resolveReference(options.path, '');
  if (path === undefined || !options.path.includes('/')) {
    throw new MonkError(
      'INVALID_REQUEST',
      `"${options.path}" is not a template path; expected namespace/name`,
    );
  }
  const context = new ResolveContext({
    templates: options.templates,
    host: { hostnameOf: (runnable) => runnable },
    volumeRoot: '',
    overrides: new Map(),
  });
  return context.merge(path).definition;
}
