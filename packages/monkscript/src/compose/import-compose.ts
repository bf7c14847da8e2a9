import { basename, dirname, join } from 'node:path';
import { MonkError } from '@monk/model';
import { WarningSink, type ComposeWarning } from './compose-warning.ts';
import { composeInvalid, expectRecord, isRecord, setOwn, type ComposeRecord } from './compose-values.ts';
import { convertService, type ConvertedService } from './convert-service.ts';
import type { ComposeFileSource, ComposeSecret } from './import-types.ts';
import { loadComposeFile } from './load-compose-file.ts';
import { mergeServices, normalizeService, type ServiceConfig } from './normalize-service.ts';
import { parseDotenv } from './parse-dotenv.ts';

export type { ComposeWarning } from './compose-warning.ts';
export type { ComposeFileSource, ComposeSecret } from './import-types.ts';

/** Options of {@link importCompose}. */
export interface ImportComposeOptions {
  /** Path of the Compose file: names it in errors, and relative paths resolve against its folder. */
  readonly file: string;
  readonly contents: string;
  /** Reads `env_file`s, `extends.file`s, secret and config `file:` sources, and the `.env` beside `file`. */
  readonly files: ComposeFileSource;
  /**
   * Interpolation variables (the package never reads `process.env`). They override the `.env` file.
   * `COMPOSE_PROJECT_NAME` and `COMPOSE_PROFILES` here act as in Compose.
   */
  readonly environment?: Readonly<Record<string, string>>;
  /** Default: `COMPOSE_PROJECT_NAME`, the file's top-level `name`, else its folder name; normalised as Compose does. */
  readonly projectName?: string;
  /** Active profiles (`*` activates all). Default: `COMPOSE_PROFILES`, else none. */
  readonly profiles?: readonly string[];
  /** The Compose Specification JSON schema (draft-07). When given, every file is validated against it. */
  readonly schema?: object;
  /** Folder that `~` stands for in bind mounts. Without it `~` is left for the host, with a warning. */
  readonly homeDir?: string;
}

/** What {@link importCompose} produced. */
export interface ComposeImport {
  /** The MonkScript namespace: the normalised project name. */
  readonly namespace: string;
  /** MonkScript documents as plain objects, exactly as a MonkScript YAML file would parse. */
  readonly documents: unknown[];
  /** Everything imported differently from Compose or left out, never silently. */
  readonly warnings: ComposeWarning[];
  /** Secret values read from secret `file:`/`environment:` sources, to store before running. */
  readonly secrets: ComposeSecret[];
}

/** Compose's project-name rule: lower case, only `a-z 0-9 _ -`, starting with a letter or digit. */
export function normalizeProjectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[_-]+/, '');
}

interface LoadedFile {
  readonly services: ComposeRecord;
  readonly dir: string;
  /** Warnings of a file loaded for `extends`, given only for the services that are used. */
  readonly warnings: readonly { warning: ComposeWarning; id: string | undefined }[];
}

interface ImportContext {
  readonly options: ImportComposeOptions;
  readonly lookup: (name: string) => string | undefined;
  readonly warnings: WarningSink;
  readonly loaded: Map<string, LoadedFile>;
}

async function loadExtendedFile(
  context: ImportContext,
  path: string,
  from: { file: string; key: string },
): Promise<LoadedFile> {
  const cached = context.loaded.get(path);
  if (cached !== undefined) return cached;
  const { files } = context.options;
  if (!(await files.exists(path))) throw composeInvalid(from, `extended file ${path} not found`);
  let contents: string;
  try {
    contents = await files.readFile(path);
  } catch (error) {
    throw composeInvalid(from, `cannot read ${path}`, error);
  }
  const warnings: { warning: ComposeWarning; id: string | undefined }[] = [];
  const { model } = loadComposeFile({
    file: path,
    contents,
    lookup: context.lookup,
    schema: context.options.schema,
    warn: (warning, id) => warnings.push({ warning, id }),
  });
  const loaded = {
    services: isRecord(model['services']) ? model['services'] : {},
    dir: dirname(path),
    warnings,
  };
  context.loaded.set(path, loaded);
  return loaded;
}

/** Follows `extends` (same file or `file:`, chained) and merges each base under the service. */
async function resolveService(
  context: ImportContext,
  at: {
    file: string;
    name: string;
    chain: readonly string[];
    from?: { file: string; key: string };
    /** The service of the main file that this one is a base of. */
    user?: string;
  },
): Promise<ServiceConfig> {
  const loaded = context.loaded.get(at.file);
  const id = `${at.file}#${at.name}`;
  const origin = { file: at.file, key: `services.${at.name}` };
  if (loaded === undefined || !Object.hasOwn(loaded.services, at.name)) {
    throw composeInvalid(at.from ?? origin, `service ${at.name} not found in ${at.file}`);
  }
  if (at.chain.includes(id))
    throw composeInvalid(origin, `extends forms a cycle: ${[...at.chain, id].join(' -> ')}`);
  const user = at.user ?? at.name;
  for (const { warning, id } of loaded.warnings) {
    if (warning.service !== at.name) continue;
    context.warnings.warn(
      {
        ...warning,
        service: user,
        message: `${warning.message} (in ${basename(at.file)}, service ${at.name})`,
      },
      id,
    );
  }
  const service = normalizeService({
    name: at.name,
    raw: loaded.services[at.name],
    file: at.file,
    dir: loaded.dir,
    homeDir: context.options.homeDir,
  });
  if (service.extends === undefined) return service;
  const baseFile = service.extends.file ?? at.file;
  const from = { file: at.file, key: `${origin.key}.extends` };
  if (service.extends.file !== undefined) await loadExtendedFile(context, baseFile, from);
  const base = await resolveService(context, {
    file: baseFile,
    name: service.extends.service,
    chain: [...at.chain, id],
    from,
    user,
  });
  // Merged under the extending service's name and file (it is the one that runs).
  return mergeServices({ ...base, name: at.name, file: at.file }, service);
}

function isActive(service: ServiceConfig, profiles: readonly string[]): boolean {
  if (service.profiles.length === 0) return true;
  return profiles.includes('*') || service.profiles.some((profile) => profiles.includes(profile));
}

/** Services in an order where each comes after what it depends on; file order breaks ties. */
function dependencyOrder(services: ReadonlyMap<string, ServiceConfig>, file: string): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: readonly string[]): void => {
    const current = state.get(name);
    if (current === 'done') return;
    if (current === 'visiting') {
      throw new MonkError(
        'COMPOSE_INVALID',
        `${file}: depends_on forms a cycle: ${[...path, name].join(' -> ')}`,
        {
          details: { file, key: `services.${name}.depends_on` },
        },
      );
    }
    state.set(name, 'visiting');
    for (const dependency of Object.keys(services.get(name)?.dependsOn ?? {})) {
      if (services.has(dependency)) visit(dependency, [...path, name]);
    }
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of services.keys()) visit(name, []);
  return order;
}

function warnTopLevel(model: ComposeRecord, warnings: WarningSink): void {
  if (model['version'] !== undefined) {
    warnings.warn({ key: 'version', message: 'the top-level version is obsolete and ignored' });
  }
  for (const key of ['include', 'models']) {
    if (model[key] !== undefined)
      warnings.warn({ key, message: `monk does not support ${key} yet; it is ignored` });
  }
  const settings = (
    section: string,
    skip: (key: string, value: unknown) => boolean,
    message: string,
  ): void => {
    const entries = model[section];
    if (!isRecord(entries)) return;
    for (const [name, spec] of Object.entries(entries)) {
      if (!isRecord(spec)) continue;
      for (const [key, value] of Object.entries(spec)) {
        if (!key.startsWith('x-') && !skip(key, value))
          warnings.warn({ key: `${section}.${name}.${key}`, message });
      }
    }
  };
  settings(
    'networks',
    (key, value) => key === 'driver' && (value === 'bridge' || value === 'overlay'),
    'monk runs one encrypted workload network across hosts; network settings are ignored',
  );
  settings(
    'volumes',
    () => false,
    'monk keeps named volumes as folders under ${monk-volume-path} on the host that runs the service; volume settings are ignored',
  );
}

/**
 * Imports a Docker Compose file as MonkScript: each service becomes a runnable in a namespace named after
 * the project, and a process-group named after the project lists them in dependency order. Compose
 * semantics come first (interpolation, `.env`, anchors and merge keys, `extends`, profiles, `env_file`);
 * every key monk does not support yet is reported in `warnings`, naming the service and key.
 *
 * @throws MonkError `COMPOSE_INVALID` naming the file and key path for a file Compose would reject
 *   (YAML or schema errors, a missing required variable or env file, an undefined service, volume,
 *   network or secret, a dependency cycle).
 * @example
 * const { namespace, documents, warnings } = await importCompose({
 *   file: '/srv/shop/compose.yaml',
 *   contents: await readFile('/srv/shop/compose.yaml', 'utf8'),
 *   files: { readFile: (p) => readFile(p, 'utf8'), exists: async (p) => existsSync(p) },
 *   environment: { TAG: '1.2' },
 * });
 */
export async function importCompose(options: ImportComposeOptions): Promise<ComposeImport> {
  const unset: Array<{ name: string; key: string }> = [];
  try {
    return await importComposeFile(options, unset);
  } catch (error) {
    throw explainUnset(error, unset);
  }
}

/**
 * A Compose error about a value that an unset variable emptied (`":/data": empty section between colons`)
 * names the variable, as `docker compose` warns: `PLEX_MEDIA_PATH is not set`.
 */
function explainUnset(error: unknown, unset: ReadonlyArray<{ name: string; key: string }>): unknown {
  if (!(error instanceof MonkError) || error.code !== 'COMPOSE_INVALID') return error;
  const key = error.details?.['key'];
  if (typeof key !== 'string') return error;
  const related = (candidate: string): boolean =>
    candidate === key ||
    candidate.startsWith(`${key}.`) ||
    candidate.startsWith(`${key}[`) ||
    key.startsWith(`${candidate}.`) ||
    key.startsWith(`${candidate}[`);
  const names = [...new Set(unset.filter((entry) => related(entry.key)).map((entry) => entry.name))];
  if (names.length === 0) return error;
  const because = names.map((name) => `${name} is not set`).join(', ');
  return new MonkError(
    'COMPOSE_INVALID',
    `${error.message} (${because}; it was replaced by an empty string)`,
    {
      cause: error,
      ...(error.location === undefined ? {} : { location: error.location }),
      details: { ...error.details, unset: names },
    },
  );
}

async function importComposeFile(
  options: ImportComposeOptions,
  unset: Array<{ name: string; key: string }>,
): Promise<ComposeImport> {
  const warnings = new WarningSink();
  const file = options.file;
  const dir = dirname(file);
  const environment: Record<string, string> = {};
  const dotenvPath = join(dir, '.env');
  if (await options.files.exists(dotenvPath)) {
    const contents = await options.files.readFile(dotenvPath);
    Object.assign(
      environment,
      parseDotenv(contents, { file: dotenvPath, lookup: (name) => options.environment?.[name] }),
    );
  }
  Object.assign(environment, options.environment ?? {});
  const lookup = (name: string): string | undefined =>
    Object.hasOwn(environment, name) ? environment[name] : undefined;

  const loaded = loadComposeFile({
    file,
    contents: options.contents,
    lookup,
    schema: options.schema,
    warn: (warning, id) => warnings.warn(warning, id),
  });
  unset.push(...loaded.unset);
  const model = loaded.model;
  warnTopLevel(model, warnings);
  const rawName =
    options.projectName ??
    lookup('COMPOSE_PROJECT_NAME') ??
    (typeof model['name'] === 'string' ? model['name'] : basename(dir));
  const namespace = normalizeProjectName(rawName);
  if (namespace === '')
    throw new MonkError(
      'COMPOSE_INVALID',
      `${file}: project name ${JSON.stringify(rawName)} has no valid character`,
    );
  const profiles =
    options.profiles ??
    (lookup('COMPOSE_PROFILES') ?? '')
      .split(',')
      .map((profile) => profile.trim())
      .filter((profile) => profile !== '');

  const services =
    model['services'] === undefined || model['services'] === null
      ? {}
      : expectRecord(model['services'], { file, key: 'services' });
  const context: ImportContext = {
    options,
    lookup,
    warnings,
    loaded: new Map([[file, { services, dir, warnings: [] }]]),
  };
  const all = new Map<string, ServiceConfig>();
  for (const name of Object.keys(services))
    all.set(name, await resolveService(context, { file, name, chain: [] }));

  const active = new Map([...all].filter(([, service]) => isActive(service, profiles)));
  for (const service of active.values()) {
    for (const [dependency, spec] of Object.entries(service.dependsOn)) {
      if (active.has(dependency)) continue;
      if (!spec.required) continue;
      const origin = { file, key: `services.${service.name}.depends_on.${dependency}` };
      if (all.has(dependency)) {
        throw composeInvalid(
          origin,
          `depends on ${dependency}, which is not in an active profile (${all.get(dependency)?.profiles.join(', ') ?? ''})`,
        );
      }
      throw composeInvalid(origin, `depends on undefined service ${dependency}`);
    }
  }
  for (const [name, service] of all) {
    if (!active.has(name)) {
      warnings.warn({
        service: name,
        key: 'profiles',
        message: `left out: not in an active profile (${service.profiles.join(', ')})`,
      });
    }
  }

  const order = dependencyOrder(active, file);
  const topLevel = {
    volumes: isRecord(model['volumes']) ? model['volumes'] : {},
    secrets: isRecord(model['secrets']) ? model['secrets'] : {},
    configs: isRecord(model['configs']) ? model['configs'] : {},
    networks: isRecord(model['networks']) ? model['networks'] : {},
  };
  const secrets: ComposeSecret[] = [];
  const converted = new Map<string, ConvertedService>();
  for (const name of order) {
    const service = active.get(name);
    if (service === undefined) continue;
    converted.set(
      name,
      await convertService({
        service,
        namespace,
        file,
        topLevel,
        lookup,
        files: options.files,
        warnings,
        secrets,
      }),
    );
  }

  // `namespace` is the one key a runnable cannot take in a MonkScript document.
  const runnableName = (name: string): string => (name === 'namespace' ? 'namespace-service' : name);
  const path = (name: string): string => `${namespace}/${runnableName(name)}`;
  const networksOf = (service: ServiceConfig): string[] => {
    if (service.other['network_mode'] !== undefined) return [];
    const names = Object.keys(service.networks);
    return names.length === 0 ? ['default'] : names;
  };
  const document: ComposeRecord = { namespace };
  for (const name of order) {
    const service = active.get(name);
    const result = converted.get(name);
    if (service === undefined || result === undefined) continue;
    const runnable = { ...result.runnable };
    const mine = new Set(networksOf(service));
    const connections: ComposeRecord = {};
    for (const other of order) {
      const peer = active.get(other);
      if (other === name || peer === undefined || !networksOf(peer).some((network) => mine.has(network)))
        continue;
      const target = converted.get(other)?.serviceNames[0];
      setOwn(connections, other, {
        runnable: path(other),
        ...(target === undefined ? {} : { service: target }),
      });
    }
    if (Object.keys(connections).length > 0) runnable['connections'] = connections;
    const waitFor: string[] = [];
    for (const [dependency, spec] of Object.entries(service.dependsOn)) {
      if (!active.has(dependency)) continue;
      waitFor.push(path(dependency));
      if (spec.condition === 'service_completed_successfully') {
        warnings.warn({
          service: name,
          key: `depends_on.${dependency}.condition`,
          message: 'monk waits for the dependency to be ready, not for it to exit',
        });
      } else if (
        spec.condition === 'service_healthy' &&
        converted.get(dependency)?.runnable['checks'] === undefined
      ) {
        warnings.warn({
          service: name,
          key: `depends_on.${dependency}.condition`,
          message: `${dependency} has no healthcheck monk can run; monk waits for it to start`,
        });
      }
      if (spec.restart) {
        warnings.warn({
          service: name,
          key: `depends_on.${dependency}.restart`,
          message: 'monk does not restart a service when its dependency restarts',
        });
      }
    }
    if (waitFor.length > 0) runnable['depends'] = { 'wait-for': { runnables: waitFor } };
    setOwn(document, runnableName(name), runnable);
    if (name === 'namespace') {
      warnings.warn({
        service: name,
        key: 'name',
        message: 'a runnable cannot be called namespace; it is namespace-service',
      });
    }
  }
  let group = namespace;
  if (Object.hasOwn(document, group)) {
    group = `${namespace}-stack`;
    warnings.warn({
      key: 'name',
      message: `a service is named like the project, so the process-group is ${namespace}/${group}`,
    });
  }
  setOwn(document, group, {
    defines: 'process-group',
    'runnable-list': order.map(path),
  });
  return { namespace, documents: [document], warnings: warnings.list, secrets };
}
