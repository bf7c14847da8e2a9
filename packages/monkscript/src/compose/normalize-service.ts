import { join } from 'node:path';
import {
  child,
  composeInvalid,
  expectArray,
  expectBoolean,
  expectInteger,
  expectRecord,
  expectScalar,
  expectString,
  expectStringList,
  isRecord,
  resolvePath,
  setOwn,
  type ComposeRecord,
  type ValueOrigin,
} from './compose-values.ts';
import { splitShellWords } from './split-shell-words.ts';

/** A port as written (short or long syntax); ranges are expanded at conversion. */
export interface PortSpec {
  readonly target: string;
  readonly published?: string;
  readonly hostIp?: string;
  readonly protocol: string;
  readonly name?: string;
  readonly appProtocol?: string;
  readonly mode?: string;
}

/** A mount, with bind sources already made absolute against the file that declared them. */
export interface VolumeSpec {
  readonly type: string;
  /** Absolute host path (bind), volume name (volume), or '' (anonymous volume, tmpfs). */
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
  /** Options monk does not apply (`z`, `nocopy`, `bind.propagation`…), for warnings. */
  readonly ignored: readonly string[];
  /** The bind source was written relative to the Compose file (`./data`). */
  readonly relative?: boolean;
}

/** A service's reference to a top-level secret or config. */
export interface FileRef {
  readonly source: string;
  readonly target?: string;
  readonly mode?: number;
  readonly ignored: readonly string[];
}

export interface EnvFileRef {
  readonly path: string;
  readonly required: boolean;
  readonly raw: boolean;
}

export interface DependsOnSpec {
  readonly condition: string;
  readonly required: boolean;
  readonly restart: boolean;
}

/**
 * One service with its list-or-map keys in a single form, so that `extends` can merge them and the
 * converter reads one shape. Keys without a special form stay in `other`, as written.
 */
export interface ServiceConfig {
  readonly name: string;
  readonly file: string;
  readonly extends?: { readonly service: string; readonly file?: string };
  readonly command?: readonly string[];
  readonly entrypoint?: readonly string[];
  readonly environment: Readonly<Record<string, string | null>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly dependsOn: Readonly<Record<string, DependsOnSpec>>;
  readonly networks: Readonly<Record<string, ComposeRecord>>;
  readonly envFiles: readonly EnvFileRef[];
  readonly volumes: readonly VolumeSpec[];
  readonly ports: readonly PortSpec[];
  readonly secrets: readonly FileRef[];
  readonly configs: readonly FileRef[];
  readonly profiles: readonly string[];
  readonly other: ComposeRecord;
}

export interface NormalizeServiceOptions {
  readonly name: string;
  readonly raw: unknown;
  /** The file that declares the service; relative paths resolve against its folder. */
  readonly file: string;
  readonly dir: string;
  readonly homeDir: string | undefined;
}

function mapOrList(value: unknown, origin: ValueOrigin, separator: string): Record<string, string | null> {
  const result: Record<string, string | null> = {};
  if (value === undefined || value === null) return result;
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      const entry = expectScalar(item, child(origin, index));
      const at = entry.indexOf(separator);
      if (at < 0) setOwn(result, entry, null);
      else setOwn(result, entry.slice(0, at), entry.slice(at + 1));
    });
    return result;
  }
  for (const [key, item] of Object.entries(expectRecord(value, origin))) {
    setOwn(result, key, item === null || item === undefined ? null : expectScalar(item, child(origin, key)));
  }
  return result;
}

function words(value: unknown, origin: ValueOrigin): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') {
    try {
      return splitShellWords(value);
    } catch (error) {
      throw composeInvalid(origin, error instanceof Error ? error.message : String(error), error);
    }
  }
  return expectArray(value, origin).map((item, index) => expectScalar(item, child(origin, index)));
}

function resolveHostPath(source: string, options: NormalizeServiceOptions): string {
  if (source === '~' || source.startsWith('~/')) {
    // Without a home folder the `~` is left for the host to expand, and the converter warns.
    return options.homeDir === undefined ? source : join(options.homeDir, source.slice(1));
  }
  return resolvePath(options.dir, source);
}

function isHostPath(source: string): boolean {
  return source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
}

const knownVolumeOptions = new Set(['ro', 'rw']);

function parseShortVolume(spec: string, origin: ValueOrigin, options: NormalizeServiceOptions): VolumeSpec {
  if (spec === '') throw composeInvalid(origin, 'empty volume');
  if (spec.length <= 2) return { type: 'volume', source: '', target: spec, readOnly: false, ignored: [] };
  const parts = spec.split(':');
  if (parts.some((part) => part === '')) {
    throw composeInvalid(origin, `invalid volume ${JSON.stringify(spec)}: empty section between colons`);
  }
  if (parts.length > 3)
    throw composeInvalid(origin, `invalid volume ${JSON.stringify(spec)}: too many colons`);
  const [first = '', second, third] = parts;
  if (second === undefined)
    return { type: 'volume', source: '', target: first, readOnly: false, ignored: [] };
  let readOnly = false;
  const ignored: string[] = [];
  for (const option of third === undefined ? [] : third.split(',')) {
    if (option === 'ro') readOnly = true;
    else if (option === 'rw') readOnly = false;
    if (!knownVolumeOptions.has(option)) ignored.push(option);
  }
  if (isHostPath(first)) {
    const relative = first.startsWith('.');
    return {
      type: 'bind',
      source: resolveHostPath(first, options),
      target: second,
      readOnly,
      ignored,
      relative,
    };
  }
  return { type: 'volume', source: first, target: second, readOnly, ignored };
}

function parseLongVolume(
  value: ComposeRecord,
  origin: ValueOrigin,
  options: NormalizeServiceOptions,
): VolumeSpec {
  const type = expectString(value['type'], child(origin, 'type'));
  const target = expectString(value['target'], child(origin, 'target'));
  const rawSource =
    value['source'] === undefined ? '' : expectString(value['source'], child(origin, 'source'));
  const readOnly =
    value['read_only'] === undefined ? false : expectBoolean(value['read_only'], child(origin, 'read_only'));
  const ignored: string[] = [];
  for (const key of Object.keys(value)) {
    if (key.startsWith('x-') || ['type', 'target', 'source', 'read_only'].includes(key)) continue;
    const nested = value[key];
    if (isRecord(nested)) {
      for (const [option, setting] of Object.entries(nested)) {
        // create_host_path: true is what monk does for bind mounts anyway.
        if (key === 'bind' && option === 'create_host_path' && setting === true) continue;
        ignored.push(`${key}.${option}`);
      }
    } else {
      ignored.push(key);
    }
  }
  if (type === 'bind') {
    if (rawSource === '') throw composeInvalid(origin, 'a bind mount needs a source');
    const relative = !rawSource.startsWith('/') && !rawSource.startsWith('~');
    return { type, source: resolveHostPath(rawSource, options), target, readOnly, ignored, relative };
  }
  return { type, source: rawSource, target, readOnly, ignored };
}

function parseShortPort(spec: string, origin: ValueOrigin): PortSpec {
  const slash = spec.lastIndexOf('/');
  const protocol = slash < 0 ? 'tcp' : spec.slice(slash + 1);
  let rest = slash < 0 ? spec : spec.slice(0, slash);
  let hostIp: string | undefined;
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']:');
    if (end < 0) throw composeInvalid(origin, `invalid port ${JSON.stringify(spec)}`);
    hostIp = rest.slice(1, end);
    rest = rest.slice(end + 2);
  }
  const parts = rest.split(':');
  let published: string | undefined;
  let target: string;
  if (hostIp !== undefined) {
    if (parts.length !== 2) throw composeInvalid(origin, `invalid port ${JSON.stringify(spec)}`);
    [published = '', target = ''] = parts;
  } else if (parts.length === 1) {
    target = parts[0] ?? '';
  } else if (parts.length === 2) {
    [published = '', target = ''] = parts;
  } else if (parts.length === 3) {
    [hostIp = '', published = '', target = ''] = parts;
  } else {
    throw composeInvalid(origin, `invalid port ${JSON.stringify(spec)}`);
  }
  if (!/^\d+(-\d+)?$/.test(target)) throw composeInvalid(origin, `invalid port ${JSON.stringify(spec)}`);
  if (published !== undefined && published !== '' && !/^\d+(-\d+)?$/.test(published)) {
    throw composeInvalid(origin, `invalid published port in ${JSON.stringify(spec)}`);
  }
  return {
    target,
    protocol,
    ...(published === undefined || published === '' ? {} : { published }),
    ...(hostIp === undefined || hostIp === '' ? {} : { hostIp }),
  };
}

function parseLongPort(value: ComposeRecord, origin: ValueOrigin): PortSpec {
  const target = expectScalar(value['target'], child(origin, 'target'));
  if (!/^\d+(-\d+)?$/.test(target)) throw composeInvalid(child(origin, 'target'), `invalid port ${target}`);
  const published =
    value['published'] === undefined || value['published'] === null
      ? undefined
      : expectScalar(value['published'], child(origin, 'published'));
  if (published !== undefined && published !== '' && !/^\d+(-\d+)?$/.test(published)) {
    throw composeInvalid(child(origin, 'published'), `invalid published port ${JSON.stringify(published)}`);
  }
  const optional = (key: string): string | undefined =>
    value[key] === undefined || value[key] === null
      ? undefined
      : expectScalar(value[key], child(origin, key));
  const hostIp = optional('host_ip');
  const name = optional('name');
  const appProtocol = optional('app_protocol');
  const mode = optional('mode');
  return {
    target,
    protocol: optional('protocol') ?? 'tcp',
    ...(published === undefined || published === '' ? {} : { published }),
    ...(hostIp === undefined || hostIp === '' ? {} : { hostIp }),
    ...(name === undefined ? {} : { name }),
    ...(appProtocol === undefined ? {} : { appProtocol }),
    ...(mode === undefined ? {} : { mode }),
  };
}

function parseFileRefs(value: unknown, origin: ValueOrigin): FileRef[] {
  if (value === undefined || value === null) return [];
  return expectArray(value, origin).map((item, index) => {
    const at = child(origin, index);
    if (typeof item === 'string') return { source: item, ignored: [] };
    const record = expectRecord(item, at);
    const ignored = ['uid', 'gid'].filter((key) => record[key] !== undefined);
    const target =
      record['target'] === undefined ? undefined : expectString(record['target'], child(at, 'target'));
    const mode = record['mode'] === undefined ? undefined : parseMode(record['mode'], child(at, 'mode'));
    return {
      source: expectString(record['source'], child(at, 'source')),
      ignored,
      ...(target === undefined ? {} : { target }),
      ...(mode === undefined ? {} : { mode }),
    };
  });
}

function parseMode(value: unknown, origin: ValueOrigin): number {
  // A quoted mode ("0440") is octal, as Compose reads it.
  if (typeof value === 'string' && /^0?[0-7]+$/.test(value)) return parseInt(value, 8);
  const mode = expectInteger(value, origin);
  if (mode < 0 || mode > 0o7777) throw composeInvalid(origin, `invalid file mode ${mode}`);
  return mode;
}

function parseEnvFiles(value: unknown, origin: ValueOrigin, options: NormalizeServiceOptions): EnvFileRef[] {
  if (value === undefined || value === null) return [];
  const items = typeof value === 'string' ? [value] : expectArray(value, origin);
  return items.map((item, index) => {
    const at = child(origin, index);
    if (typeof item === 'string') return { path: resolvePath(options.dir, item), required: true, raw: false };
    const record = expectRecord(item, at);
    const format =
      record['format'] === undefined ? undefined : expectString(record['format'], child(at, 'format'));
    return {
      path: resolvePath(options.dir, expectString(record['path'], child(at, 'path'))),
      required:
        record['required'] === undefined ? true : expectBoolean(record['required'], child(at, 'required')),
      raw: format === 'raw',
    };
  });
}

function parseDependsOn(value: unknown, origin: ValueOrigin): Record<string, DependsOnSpec> {
  const result: Record<string, DependsOnSpec> = {};
  if (value === undefined || value === null) return result;
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      setOwn(result, expectString(item, child(origin, index)), {
        condition: 'service_started',
        required: true,
        restart: false,
      });
    });
    return result;
  }
  for (const [name, spec] of Object.entries(expectRecord(value, origin))) {
    const at = child(origin, name);
    const record = spec === null ? {} : expectRecord(spec, at);
    result[name] = {
      condition:
        record['condition'] === undefined
          ? 'service_started'
          : expectString(record['condition'], child(at, 'condition')),
      required:
        record['required'] === undefined ? true : expectBoolean(record['required'], child(at, 'required')),
      restart:
        record['restart'] === undefined ? false : expectBoolean(record['restart'], child(at, 'restart')),
    };
  }
  return result;
}

function parseNetworks(value: unknown, origin: ValueOrigin): Record<string, ComposeRecord> {
  const result: Record<string, ComposeRecord> = {};
  if (value === undefined || value === null) return result;
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      setOwn(result, expectString(item, child(origin, index)), {});
    });
    return result;
  }
  for (const [name, spec] of Object.entries(expectRecord(value, origin))) {
    setOwn(result, name, spec === null || spec === undefined ? {} : expectRecord(spec, child(origin, name)));
  }
  return result;
}

function parseExtends(
  value: unknown,
  origin: ValueOrigin,
  options: NormalizeServiceOptions,
): ServiceConfig['extends'] {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return { service: value };
  const record = expectRecord(value, origin);
  const service = expectString(record['service'], child(origin, 'service'));
  if (record['file'] === undefined) return { service };
  return { service, file: resolvePath(options.dir, expectString(record['file'], child(origin, 'file'))) };
}

/**
 * Brings one raw service into {@link ServiceConfig} form: list/map keys as maps, short/long syntaxes as
 * one shape, string commands split into words, relative paths made absolute against the declaring file.
 *
 * @throws MonkError `COMPOSE_INVALID` naming the file and key of a value of the wrong shape.
 */
export function normalizeService(options: NormalizeServiceOptions): ServiceConfig {
  const origin: ValueOrigin = { file: options.file, key: `services.${options.name}` };
  const raw = expectRecord(options.raw ?? {}, origin);
  const at = (key: string): ValueOrigin => child(origin, key);
  const other: ComposeRecord = {};
  const special = new Set([
    'extends',
    'command',
    'entrypoint',
    'environment',
    'labels',
    'depends_on',
    'networks',
    'env_file',
    'volumes',
    'ports',
    'secrets',
    'configs',
    'profiles',
  ]);
  for (const [key, value] of Object.entries(raw)) {
    if (!special.has(key)) setOwn(other, key, value);
  }
  if (typeof other['build'] === 'string') other['build'] = { context: other['build'] };
  if (isRecord(other['build']) && typeof other['build']['context'] === 'string') {
    other['build'] = { ...other['build'], context: resolvePath(options.dir, other['build']['context']) };
  }
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(mapOrList(raw['labels'], at('labels'), '=')))
    setOwn(labels, key, value ?? '');
  const volumes =
    raw['volumes'] === undefined || raw['volumes'] === null ? [] : expectArray(raw['volumes'], at('volumes'));
  const ports =
    raw['ports'] === undefined || raw['ports'] === null ? [] : expectArray(raw['ports'], at('ports'));
  const command = words(raw['command'], at('command'));
  const entrypoint = words(raw['entrypoint'], at('entrypoint'));
  const extendsSpec = parseExtends(raw['extends'], at('extends'), options);
  return {
    name: options.name,
    file: options.file,
    ...(extendsSpec === undefined ? {} : { extends: extendsSpec }),
    ...(command === undefined ? {} : { command }),
    ...(entrypoint === undefined ? {} : { entrypoint }),
    environment: mapOrList(raw['environment'], at('environment'), '='),
    labels,
    dependsOn: parseDependsOn(raw['depends_on'], at('depends_on')),
    networks: parseNetworks(raw['networks'], at('networks')),
    envFiles: parseEnvFiles(raw['env_file'], at('env_file'), options),
    volumes: volumes.map((item, index) => {
      const itemOrigin = child(at('volumes'), index);
      return typeof item === 'string'
        ? parseShortVolume(item, itemOrigin, options)
        : parseLongVolume(expectRecord(item, itemOrigin), itemOrigin, options);
    }),
    ports: ports.flatMap((item, index) => {
      const itemOrigin = child(at('ports'), index);
      if (typeof item === 'number') return [parseShortPort(String(item), itemOrigin)];
      if (typeof item === 'string') return [parseShortPort(item, itemOrigin)];
      return [parseLongPort(expectRecord(item, itemOrigin), itemOrigin)];
    }),
    secrets: parseFileRefs(raw['secrets'], at('secrets')),
    configs: parseFileRefs(raw['configs'], at('configs')),
    profiles:
      raw['profiles'] === undefined || raw['profiles'] === null
        ? []
        : expectStringList(raw['profiles'], at('profiles')),
    other,
  };
}

function portKey(port: PortSpec): string {
  return `${port.hostIp ?? ''}|${port.published ?? ''}|${port.target}|${port.protocol}`;
}

function mergeBy<T>(base: readonly T[], override: readonly T[], key: (item: T) => string): T[] {
  const result = new Map<string, T>();
  for (const item of base) result.set(key(item), item);
  for (const item of override) result.set(key(item), item);
  return [...result.values()];
}

function appendUnique<T>(base: readonly T[], override: readonly T[]): T[] {
  const seen = new Set(base.map((item) => JSON.stringify(item)));
  return [...base, ...override.filter((item) => !seen.has(JSON.stringify(item)))];
}

/** Compose's merge of plain values: mappings merge key by key, sequences append, scalars override. */
function deepMerge(base: unknown, override: unknown, path: string): unknown {
  if (isRecord(base) && isRecord(override)) {
    const result: ComposeRecord = { ...base };
    for (const [key, value] of Object.entries(override)) {
      setOwn(result, key, Object.hasOwn(base, key) ? deepMerge(base[key], value, `${path}.${key}`) : value);
    }
    return result;
  }
  // A healthcheck test is a command: the override replaces it.
  if (Array.isArray(base) && Array.isArray(override) && path !== 'healthcheck.test') {
    return appendUnique(base, override);
  }
  return override;
}

/**
 * Merges a service over the one it `extends`, with Compose's rules: mappings (environment, labels,
 * networks, deploy…) merge key by key, `command`/`entrypoint`/`healthcheck.test` are replaced, `ports`,
 * `volumes`, `secrets` and `configs` merge by their unique key (target, or address and protocol), other
 * sequences append, scalars are overridden.
 */
export function mergeServices(base: ServiceConfig, override: ServiceConfig): ServiceConfig {
  const other: ComposeRecord = { ...base.other };
  for (const [key, value] of Object.entries(override.other)) {
    setOwn(other, key, Object.hasOwn(base.other, key) ? deepMerge(base.other[key], value, key) : value);
  }
  const networks: Record<string, ComposeRecord> = { ...base.networks };
  for (const [name, spec] of Object.entries(override.networks)) {
    setOwn(
      networks,
      name,
      deepMerge(
        Object.hasOwn(networks, name) ? networks[name] : {},
        spec,
        `networks.${name}`,
      ) as ComposeRecord,
    );
  }
  const command = override.command ?? base.command;
  const entrypoint = override.entrypoint ?? base.entrypoint;
  return {
    name: override.name,
    file: override.file,
    ...(command === undefined ? {} : { command }),
    ...(entrypoint === undefined ? {} : { entrypoint }),
    environment: { ...base.environment, ...override.environment },
    labels: { ...base.labels, ...override.labels },
    dependsOn: { ...base.dependsOn, ...override.dependsOn },
    networks,
    envFiles: appendUnique(base.envFiles, override.envFiles),
    volumes: mergeBy(base.volumes, override.volumes, (volume) => volume.target),
    ports: mergeBy(base.ports, override.ports, portKey),
    secrets: mergeBy(base.secrets, override.secrets, (ref) => ref.target ?? ref.source),
    configs: mergeBy(base.configs, override.configs, (ref) => ref.target ?? ref.source),
    profiles: appendUnique(base.profiles, override.profiles),
    other,
  };
}
