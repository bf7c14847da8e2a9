import { dirname } from 'node:path';
import type { WarningSink } from './compose-warning.ts';
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
import type { ComposeFileSource, ComposeSecret } from './import-types.ts';
import type { PortSpec, ServiceConfig, VolumeSpec } from './normalize-service.ts';
import { parseDotenv } from './parse-dotenv.ts';
import { parseBytes, parseCpus, parseDuration } from './parse-units.ts';

/** What the converter needs besides the service itself. */
export interface ConvertServiceOptions {
  readonly service: ServiceConfig;
  readonly namespace: string;
  /** The main Compose file: top-level secrets, configs and volumes are its. */
  readonly file: string;
  readonly topLevel: {
    readonly volumes: ComposeRecord;
    readonly secrets: ComposeRecord;
    readonly configs: ComposeRecord;
    readonly networks: ComposeRecord;
  };
  readonly lookup: (name: string) => string | undefined;
  readonly files: ComposeFileSource;
  readonly warnings: WarningSink;
  readonly secrets: ComposeSecret[];
}

/** The runnable document of one service, and what the importer needs to wire services together. */
export interface ConvertedService {
  readonly runnable: ComposeRecord;
  /** Names of the MonkScript services (ports) the runnable offers, first the published ones. */
  readonly serviceNames: readonly string[];
}

/** Keys the converter maps; every other service key is reported as unsupported. */
const handledKeys = new Set([
  'image',
  'build',
  'healthcheck',
  'deploy',
  'scale',
  'restart',
  'container_name',
  'init',
  'privileged',
  'cap_add',
  'working_dir',
  'user',
  'cpus',
  'mem_limit',
  'mem_reservation',
  'expose',
  'network_mode',
]);

const unsupportedReasons: Record<string, string> = {
  links:
    'links are not needed: every service reaches the others by name; the start order comes from depends_on',
  network_mode: 'monk attaches every container to its workload network',
  logging: 'monk collects container logs itself; logging drivers and options are ignored',
  stop_grace_period: 'monk stops containers with its own timeout',
  attach: 'monk does not attach to containers; `monk logs` shows their output',
  platform: 'monk runs the image built for the host',
  hostname: 'monk sets container host names itself',
};

const defaultHealthcheck = { interval: 30, timeout: 30, retries: 3, startPeriod: 0 };

// A string that starts with `<-` would be read as an Arrow script: quote it as an Arrow string literal.
function literal(value: string): string {
  return value.trimStart().startsWith('<-') ? `<- ${JSON.stringify(value)}` : value;
}

/** Splits `registry:5000/name:tag@digest` into the image and its tag (`latest` when none). */
function splitImage(reference: string): { image: string; tag?: string } {
  if (reference.includes('@')) return { image: reference };
  const colon = reference.lastIndexOf(':');
  if (colon > reference.lastIndexOf('/')) {
    return { image: reference.slice(0, colon), tag: reference.slice(colon + 1) };
  }
  return { image: reference, tag: 'latest' };
}

function expandRange(text: string): number[] {
  const [from = '', to] = text.split('-');
  const start = Number(from);
  const end = to === undefined ? start : Number(to);
  const ports: number[] = [];
  for (let port = start; port <= end && ports.length <= 1000; port += 1) ports.push(port);
  return ports;
}

/** The monk view of one service, built up key by key. */
class RunnableBuilder {
  readonly container: ComposeRecord = {};
  readonly runnable: ComposeRecord = { defines: 'runnable' };
  readonly services = new Map<string, { port: number; protocol: string; published: boolean }>();
  readonly files: Record<string, ComposeRecord> = {};
  readonly permittedSecrets: Record<string, boolean> = {};
  readonly options: ConvertServiceOptions;

  constructor(options: ConvertServiceOptions) {
    this.options = options;
  }

  get name(): string {
    return this.options.service.name;
  }

  warn(key: string, message: string): void {
    this.options.warnings.warn({ service: this.name, key, message });
  }

  origin(key: string): ValueOrigin {
    return { file: this.options.service.file, key: `services.${this.name}.${key}` };
  }

  addService(entry: { port: number; protocol: string; published: boolean; name?: string }): void {
    for (const existing of this.services.values()) {
      if (existing.port === entry.port && existing.protocol === entry.protocol) return;
    }
    let key =
      entry.name ??
      (entry.protocol === 'tcp' ? `port-${entry.port}` : `port-${entry.port}-${entry.protocol}`);
    while (this.services.has(key)) key = `${key}-${entry.protocol}`;
    this.services.set(key, { port: entry.port, protocol: entry.protocol, published: entry.published });
  }

  addFile(prefix: string, entry: { path: string; contents: string; mode: number }): void {
    let key = `${prefix}`;
    for (let n = 2; Object.hasOwn(this.files, key); n += 1) key = `${prefix}-${n}`;
    this.files[key] = { container: this.name, path: entry.path, contents: entry.contents, mode: entry.mode };
  }
}

function convertImage(builder: RunnableBuilder): void {
  const { other } = builder.options.service;
  const build = other['build'];
  if (other['image'] === undefined || other['image'] === null) {
    if (build === undefined) {
      throw composeInvalid(builder.origin('image'), 'the service has neither an image nor a build section');
    }
    const image = `${builder.options.namespace}-${builder.name}`;
    builder.warn(
      'build',
      `monk does not build images: build this one as ${image}:latest (for example with \`docker compose build\`) and make it available on every host that may run ${builder.name}`,
    );
    builder.container['image'] = image;
    builder.container['image-tag'] = 'latest';
    return;
  }
  const reference = expectScalar(other['image'], builder.origin('image')).trim();
  const { image, tag } = splitImage(reference);
  if (image === '' || tag === '') {
    throw composeInvalid(
      builder.origin('image'),
      `invalid image ${JSON.stringify(reference)} (is a variable unset?)`,
    );
  }
  if (build !== undefined)
    builder.warn('build', `monk does not build images; it runs the image ${reference}`);
  builder.container['image'] = literal(image);
  if (tag !== undefined) builder.container['image-tag'] = literal(tag);
}

async function convertEnvironment(builder: RunnableBuilder): Promise<void> {
  const { service, files, lookup } = builder.options;
  const values = new Map<string, string>();
  for (const [index, ref] of service.envFiles.entries()) {
    if (!(await files.exists(ref.path))) {
      if (ref.required) {
        throw composeInvalid(builder.origin(`env_file[${index}]`), `env file ${ref.path} not found`);
      }
      continue;
    }
    let contents: string;
    try {
      contents = await files.readFile(ref.path);
    } catch (error) {
      throw composeInvalid(builder.origin(`env_file[${index}]`), `cannot read ${ref.path}`, error);
    }
    const parsed = parseDotenv(contents, { lookup, raw: ref.raw, file: ref.path });
    for (const [key, value] of Object.entries(parsed)) values.set(key, value);
  }
  for (const [key, value] of Object.entries(service.environment)) {
    const resolved = value ?? lookup(key);
    // `KEY` without a value and without a value in the environment is left unset, as Compose does.
    if (resolved === undefined) values.delete(key);
    else values.set(key, resolved);
  }
  if (values.size > 0) {
    builder.container['environment'] = [...values].map(([key, value]) => literal(`${key}=${value}`));
  }
}

function convertPorts(builder: RunnableBuilder): void {
  const published: string[] = [];
  const warnPort = (index: number, message: string): void => builder.warn(`ports[${index}]`, message);
  builder.options.service.ports.forEach((port: PortSpec, index) => {
    if (port.protocol !== 'tcp' && port.protocol !== 'udp') {
      warnPort(index, `protocol ${port.protocol} is not supported; only tcp and udp`);
      return;
    }
    if (port.appProtocol !== undefined) {
      warnPort(index, `app_protocol ${port.appProtocol} is not used by monk`);
    }
    const targets = expandRange(port.target);
    const hosts = port.published === undefined ? [] : expandRange(port.published);
    if (targets.length > 1000 || hosts.length > 1000) {
      warnPort(index, 'port ranges of more than 1000 ports are not imported');
      return;
    }
    if (port.published === undefined) {
      warnPort(
        index,
        'Compose publishes this port on a random host port; monk does not pick random host ports, so it is reachable only from the other services',
      );
    } else if (hosts.length !== targets.length) {
      if (targets.length !== 1) {
        throw composeInvalid(
          builder.origin(`ports[${index}]`),
          'the host and container port ranges differ in length',
        );
      }
      warnPort(
        index,
        `Compose picks a free host port in ${port.published}; monk publishes on ${hosts[0] ?? ''}`,
      );
      hosts.length = 1;
    }
    targets.forEach((target, offset) => {
      const host = hosts[offset];
      builder.addService({
        port: target,
        protocol: port.protocol,
        published: host !== undefined,
        ...(port.name === undefined || targets.length > 1 ? {} : { name: port.name }),
      });
      if (host === undefined) return;
      const ip =
        port.hostIp === undefined ? '' : port.hostIp.includes(':') ? `[${port.hostIp}]:` : `${port.hostIp}:`;
      published.push(`${ip}${host}:${target}/${port.protocol}`);
    });
  });
  if (published.length > 0) builder.container['ports'] = published;
  const expose = builder.options.service.other['expose'];
  if (expose !== undefined && expose !== null) {
    expectArray(expose, builder.origin('expose')).forEach((item, index) => {
      const text = expectScalar(item, builder.origin(`expose[${index}]`));
      const match = /^(\d+(?:-\d+)?)(?:\/(tcp|udp))?$/.exec(text);
      if (match === null) throw composeInvalid(builder.origin(`expose[${index}]`), `invalid port ${text}`);
      for (const port of expandRange(match[1] ?? '')) {
        builder.addService({ port, protocol: match[2] ?? 'tcp', published: false });
      }
    });
  }
}

const unsafeForTemplate = /[`\\$:]/;

function convertVolumes(builder: RunnableBuilder): void {
  const { service, topLevel, namespace } = builder.options;
  const paths: string[] = [];
  const anonymous: string[] = [];
  service.volumes.forEach((volume: VolumeSpec, index) => {
    const key = `volumes[${index}]`;
    for (const option of volume.ignored) {
      builder.warn(
        key,
        option === 'roz' || option === 'rwz' || option === 'z' || option === 'Z'
          ? `volume option ${option} is not applied (SELinux relabelling is not supported; Compose itself ignores a combined "${option}"), the mount is ${volume.readOnly ? 'read-only' : 'read-write'}`
          : `volume option ${option} is not applied`,
      );
    }
    const suffix = volume.readOnly ? ':ro' : '';
    switch (volume.type) {
      case 'bind': {
        if (volume.source.startsWith('~')) {
          builder.warn(key, `the home folder of ${volume.source} is not known here; it is left to the host`);
        } else if (!volume.source.startsWith('/')) {
          builder.warn(key, `bind source ${volume.source} is not an absolute path`);
        } else if (volume.relative === true) {
          builder.warn(
            'volumes',
            `relative bind sources are resolved against the Compose file's folder (${dirname(service.file)}); those paths must exist on every host that may run ${builder.name}`,
          );
        }
        paths.push(literal(`${volume.source}:${volume.target}${suffix}`));
        return;
      }
      case 'volume': {
        if (volume.source === '') {
          anonymous.push(literal(`${volume.target}${suffix}`));
          return;
        }
        if (!Object.hasOwn(topLevel.volumes, volume.source)) {
          throw composeInvalid(builder.origin(key), `refers to undefined volume ${volume.source}`);
        }
        if (unsafeForTemplate.test(volume.target) || unsafeForTemplate.test(namespace)) {
          builder.warn(
            key,
            `the target ${volume.target} cannot be written in a MonkScript path template; left out`,
          );
          return;
        }
        paths.push(`<- \`\${monk-volume-path}/${namespace}/${volume.source}:${volume.target}${suffix}\``);
        return;
      }
      default:
        builder.warn(key, `${volume.type} mounts are not supported by monk; ${volume.target} is left out`);
    }
  });
  if (paths.length > 0) builder.container['paths'] = paths;
  if (anonymous.length > 0) builder.container['volumes'] = anonymous;
}

function convertHealthcheck(builder: RunnableBuilder): void {
  const raw = builder.options.service.other['healthcheck'];
  if (raw === undefined || raw === null) return;
  const origin = builder.origin('healthcheck');
  const healthcheck = expectRecord(raw, origin);
  if (healthcheck['disable'] !== undefined && expectBoolean(healthcheck['disable'], child(origin, 'disable')))
    return;
  const test = healthcheck['test'];
  if (test === undefined) {
    builder.warn(
      'healthcheck',
      'a healthcheck without test uses the image HEALTHCHECK, which monk does not read',
    );
    return;
  }
  let argv: string[];
  if (typeof test === 'string') {
    argv = ['/bin/sh', '-c', test];
  } else {
    const list = expectArray(test, child(origin, 'test')).map((item, index) =>
      expectScalar(item, child(child(origin, 'test'), index)),
    );
    const [kind, ...rest] = list;
    if (kind === 'NONE') return;
    if (kind === 'CMD') argv = rest;
    else if (kind === 'CMD-SHELL') argv = ['/bin/sh', '-c', rest.join(' ')];
    else throw composeInvalid(child(origin, 'test'), 'must start with NONE, CMD or CMD-SHELL');
  }
  if (argv.length === 0) throw composeInvalid(child(origin, 'test'), 'the healthcheck command is empty');
  const seconds = (key: string, fallback: number): number => {
    const value = healthcheck[key];
    if (value === undefined || value === null) return fallback;
    try {
      return parseDuration(expectScalar(value, child(origin, key)));
    } catch (error) {
      throw composeInvalid(child(origin, key), error instanceof Error ? error.message : String(error), error);
    }
  };
  if (healthcheck['start_interval'] !== undefined) {
    builder.warn('healthcheck.start_interval', 'monk checks at the same interval during the start period');
  }
  const retries =
    healthcheck['retries'] === undefined
      ? defaultHealthcheck.retries
      : expectInteger(healthcheck['retries'], child(origin, 'retries'));
  builder.runnable['checks'] = {
    readiness: {
      code: `exec(${[builder.name, ...argv].map((word) => JSON.stringify(word)).join(', ')})`,
      period: seconds('interval', defaultHealthcheck.interval),
      timeout: seconds('timeout', defaultHealthcheck.timeout),
      attempts: Math.max(1, retries),
      initialDelay: seconds('start_period', defaultHealthcheck.startPeriod),
    },
  };
}

const restartPolicies = new Set(['no', 'always', 'unless-stopped', 'on-failure']);

function convertRestart(builder: RunnableBuilder, deploy: ComposeRecord | undefined): void {
  const raw = builder.options.service.other['restart'];
  let policy = raw === undefined || raw === null ? '' : expectScalar(raw, builder.origin('restart'));
  const restartPolicy = deploy?.['restart_policy'];
  if (isRecord(restartPolicy)) {
    const origin = child(builder.origin('deploy'), 'restart_policy');
    const condition = restartPolicy['condition'];
    if (condition !== undefined && policy === '') {
      const value = expectString(condition, child(origin, 'condition'));
      policy = value === 'any' ? 'always' : value === 'none' ? 'no' : value;
    }
    for (const key of Object.keys(restartPolicy)) {
      if (key !== 'condition') {
        builder.warn(`deploy.restart_policy.${key}`, 'monk restarts with its own exponential back-off');
      }
    }
  }
  if (policy === '') policy = 'no';
  const [name = '', retries] = policy.split(':');
  if (
    !restartPolicies.has(name) ||
    (retries !== undefined && (name !== 'on-failure' || !/^\d+$/.test(retries)))
  ) {
    throw composeInvalid(builder.origin('restart'), `invalid restart policy ${JSON.stringify(policy)}`);
  }
  if (retries !== undefined) builder.warn('restart', `monk does not limit restarts to ${retries}`);
  builder.container['restart'] = name;
}

function convertDeploy(builder: RunnableBuilder): ComposeRecord | undefined {
  const { other } = builder.options.service;
  const origin = builder.origin('deploy');
  const deploy =
    other['deploy'] === undefined || other['deploy'] === null
      ? undefined
      : expectRecord(other['deploy'], origin);
  let scale =
    other['scale'] === undefined ? undefined : expectInteger(other['scale'], builder.origin('scale'));
  const limits: ComposeRecord = {};
  const reservations: ComposeRecord = {};
  const setCpus = (target: ComposeRecord, value: unknown, at: ValueOrigin): void => {
    try {
      target['cpus'] = parseCpus(expectScalar(value, at));
    } catch (error) {
      throw composeInvalid(at, error instanceof Error ? error.message : String(error), error);
    }
  };
  const setMemory = (target: ComposeRecord, value: unknown, at: ValueOrigin): void => {
    try {
      target['memory-bytes'] = parseBytes(typeof value === 'number' ? value : expectScalar(value, at));
    } catch (error) {
      throw composeInvalid(at, error instanceof Error ? error.message : String(error), error);
    }
  };
  if (other['cpus'] !== undefined) setCpus(limits, other['cpus'], builder.origin('cpus'));
  if (other['mem_limit'] !== undefined) setMemory(limits, other['mem_limit'], builder.origin('mem_limit'));
  if (other['mem_reservation'] !== undefined) {
    setMemory(reservations, other['mem_reservation'], builder.origin('mem_reservation'));
  }
  for (const [key, value] of Object.entries(deploy ?? {})) {
    const at = child(origin, key);
    switch (key) {
      case 'replicas': {
        const replicas = expectInteger(value, at);
        if (scale !== undefined && scale !== replicas) {
          throw composeInvalid(at, `deploy.replicas (${replicas}) and scale (${scale}) disagree`);
        }
        scale = replicas;
        break;
      }
      case 'mode': {
        const mode = expectString(value, at);
        if (mode !== 'replicated') {
          builder.warn(
            'deploy.mode',
            `mode ${mode} is not supported; monk runs the replicas given by scale (1 by default)`,
          );
        }
        break;
      }
      case 'resources': {
        for (const [kind, spec] of Object.entries(expectRecord(value, at))) {
          const target = kind === 'limits' ? limits : kind === 'reservations' ? reservations : undefined;
          if (target === undefined) {
            builder.warn(`deploy.resources.${kind}`, 'is not supported by monk');
            continue;
          }
          for (const [resource, amount] of Object.entries(expectRecord(spec, child(at, kind)))) {
            const resourceOrigin = child(child(at, kind), resource);
            if (resource === 'cpus') setCpus(target, amount, resourceOrigin);
            else if (resource === 'memory') setMemory(target, amount, resourceOrigin);
            else builder.warn(`deploy.resources.${kind}.${resource}`, 'is not supported by monk');
          }
        }
        break;
      }
      case 'update_config': {
        const rollout: ComposeRecord = {};
        for (const [setting, setting_value] of Object.entries(expectRecord(value, at))) {
          const settingOrigin = child(at, setting);
          if (setting === 'parallelism') rollout['parallelism'] = expectInteger(setting_value, settingOrigin);
          else if (setting === 'delay' || setting === 'monitor') {
            rollout[setting] = parseDuration(expectScalar(setting_value, settingOrigin));
          } else if (setting === 'failure_action')
            rollout['failure-action'] = expectString(setting_value, settingOrigin);
          else if (setting === 'max_failure_ratio') rollout['max-failure-ratio'] = Number(setting_value);
          else if (setting === 'order') rollout['order'] = expectString(setting_value, settingOrigin);
          else builder.warn(`deploy.update_config.${setting}`, 'is not supported by monk');
        }
        builder.runnable['rollout'] = rollout;
        break;
      }
      case 'restart_policy':
        break;
      case 'placement':
        builder.warn(
          'deploy.placement',
          'monk places runnables itself; placement constraints and preferences are ignored',
        );
        break;
      case 'labels':
        builder.warn('deploy.labels', 'monk has no Swarm service object to label; these labels are ignored');
        break;
      default:
        builder.warn(`deploy.${key}`, 'is not supported by monk');
    }
  }
  if (scale !== undefined) builder.runnable['scale'] = scale;
  const resources: ComposeRecord = {};
  if (Object.keys(limits).length > 0) resources['limits'] = limits;
  if (Object.keys(reservations).length > 0) resources['reservations'] = reservations;
  if (Object.keys(resources).length > 0) builder.runnable['resources'] = resources;
  return deploy;
}

async function readSource(
  builder: RunnableBuilder,
  options: { kind: 'secret' | 'config'; name: string; path: string; origin: ValueOrigin },
): Promise<string | undefined> {
  const { files } = builder.options;
  if (!(await files.exists(options.path))) return undefined;
  try {
    return await files.readFile(options.path);
  } catch (error) {
    throw composeInvalid(
      options.origin,
      `cannot read ${options.kind} ${options.name} from ${options.path}`,
      error,
    );
  }
}

async function convertSecrets(builder: RunnableBuilder): Promise<void> {
  const { topLevel, namespace, file, lookup } = builder.options;
  const fileDir = dirname(file);
  for (const [index, ref] of builder.options.service.secrets.entries()) {
    const key = `secrets[${index}]`;
    for (const ignored of ref.ignored) builder.warn(`${key}.${ignored}`, 'monk does not set file ownership');
    const definition = Object.hasOwn(topLevel.secrets, ref.source) ? topLevel.secrets[ref.source] : undefined;
    if (!isRecord(definition))
      throw composeInvalid(builder.origin(key), `refers to undefined secret ${ref.source}`);
    const origin: ValueOrigin = { file, key: `secrets.${ref.source}` };
    let name = `${namespace}-${ref.source}`;
    if (definition['external'] === true || isRecord(definition['external'])) {
      name = typeof definition['name'] === 'string' ? definition['name'] : ref.source;
      builder.warn(
        key,
        `secret ${ref.source} is external: add it to monk's secret store as ${name} before running`,
      );
    } else if (typeof definition['file'] === 'string') {
      const resolved = resolvePath(fileDir, definition['file']);
      const value = await readSource(builder, { kind: 'secret', name: ref.source, path: resolved, origin });
      if (value === undefined) {
        builder.warn(
          key,
          `secret file ${resolved} not found: add the secret to monk's secret store as ${name}`,
        );
      } else if (!builder.options.secrets.some((secret) => secret.name === name)) {
        builder.options.secrets.push({ name, value, source: resolved });
      }
    } else if (typeof definition['environment'] === 'string') {
      const variable = definition['environment'];
      const value = lookup(variable);
      if (value === undefined) {
        builder.warn(
          key,
          `variable ${variable} of secret ${ref.source} is not set: add the secret to monk as ${name}`,
        );
      } else if (!builder.options.secrets.some((secret) => secret.name === name)) {
        builder.options.secrets.push({ name, value, source: `environment:${variable}` });
      }
    } else {
      throw composeInvalid(origin, 'a secret needs file, environment or external');
    }
    const target = ref.target ?? ref.source;
    setOwn(builder.permittedSecrets, name, true);
    builder.addFile(`secret-${ref.source}`, {
      path: target.startsWith('/') ? target : `/run/secrets/${target}`,
      contents: `<- secret(${JSON.stringify(name)})`,
      mode: ref.mode ?? 0o444,
    });
  }
}

async function convertConfigs(builder: RunnableBuilder): Promise<void> {
  const { topLevel, file, lookup } = builder.options;
  for (const [index, ref] of builder.options.service.configs.entries()) {
    const key = `configs[${index}]`;
    for (const ignored of ref.ignored) builder.warn(`${key}.${ignored}`, 'monk does not set file ownership');
    const definition = Object.hasOwn(topLevel.configs, ref.source) ? topLevel.configs[ref.source] : undefined;
    if (!isRecord(definition))
      throw composeInvalid(builder.origin(key), `refers to undefined config ${ref.source}`);
    const origin: ValueOrigin = { file, key: `configs.${ref.source}` };
    let contents: string;
    if (typeof definition['content'] === 'string') {
      contents = definition['content'];
    } else if (typeof definition['environment'] === 'string') {
      contents = lookup(definition['environment']) ?? '';
    } else if (typeof definition['file'] === 'string') {
      const path = resolvePath(dirname(file), definition['file']);
      const value = await readSource(builder, { kind: 'config', name: ref.source, path, origin });
      if (value === undefined) throw composeInvalid(origin, `config file ${path} not found`);
      contents = value;
    } else if (definition['external'] !== undefined) {
      builder.warn(key, `config ${ref.source} is external; monk has no config store, so it is left out`);
      continue;
    } else {
      throw composeInvalid(origin, 'a config needs file, content, environment or external');
    }
    if (contents.includes('{{')) {
      builder.warn(key, 'MonkScript renders `{{ }}` in file contents as a template; check the result');
    }
    const target = ref.target ?? `/${ref.source}`;
    builder.addFile(`config-${ref.source}`, {
      path: target.startsWith('/') ? target : `/${target}`,
      contents: literal(contents),
      mode: ref.mode ?? 0o444,
    });
  }
}

function convertNetworks(builder: RunnableBuilder): void {
  const { service, topLevel } = builder.options;
  const aliases = [builder.name];
  if (typeof service.other['container_name'] === 'string') aliases.push(service.other['container_name']);
  for (const [network, spec] of Object.entries(service.networks)) {
    if (network !== 'default' && !Object.hasOwn(topLevel.networks, network)) {
      throw composeInvalid(builder.origin(`networks.${network}`), `refers to undefined network ${network}`);
    }
    for (const [key, value] of Object.entries(spec)) {
      if (key === 'aliases') {
        aliases.push(...expectStringList(value, builder.origin(`networks.${network}.aliases`)));
      } else if (!key.startsWith('x-')) {
        builder.warn(
          `networks.${network}.${key}`,
          'monk runs one workload network and assigns addresses itself; ignored',
        );
      }
    }
  }
  builder.container['aliases'] = [...new Set(aliases)];
}

function convertSimpleKeys(builder: RunnableBuilder): void {
  const { other, labels } = builder.options.service;
  const container = builder.container;
  if (other['container_name'] !== undefined) {
    container['container-name'] = expectScalar(other['container_name'], builder.origin('container_name'));
  }
  if (Object.keys(labels).length > 0) {
    container['labels'] = Object.fromEntries(
      Object.entries(labels).map(([key, value]) => [key, literal(value)]),
    );
  }
  if (other['init'] !== undefined) container['init'] = expectBoolean(other['init'], builder.origin('init'));
  if (other['privileged'] !== undefined) {
    container['privileged'] = expectBoolean(other['privileged'], builder.origin('privileged'));
  }
  if (other['cap_add'] !== undefined)
    container['cap-add'] = expectStringList(other['cap_add'], builder.origin('cap_add'));
  if (other['working_dir'] !== undefined) {
    container['working-dir'] = expectScalar(other['working_dir'], builder.origin('working_dir'));
  }
  if (other['user'] !== undefined) container['user'] = expectScalar(other['user'], builder.origin('user'));
  if (other['network_mode'] !== undefined) {
    const mode = expectScalar(other['network_mode'], builder.origin('network_mode'));
    builder.warn(
      'network_mode',
      `network_mode ${mode} is not supported: ${unsupportedReasons['network_mode'] ?? ''}`,
    );
  }
  for (const key of Object.keys(other)) {
    if (handledKeys.has(key) || key.startsWith('x-')) continue;
    builder.warn(key, unsupportedReasons[key] ?? `monk does not support ${key} yet; it is ignored`);
  }
}

/**
 * Converts one resolved Compose service into a MonkScript runnable (one container named after the
 * service). Dependencies and connections are wired by the importer, which sees all services.
 *
 * @throws MonkError `COMPOSE_INVALID` naming the file and key of a value monk cannot read.
 */
export async function convertService(options: ConvertServiceOptions): Promise<ConvertedService> {
  const builder = new RunnableBuilder(options);
  const { service } = options;
  convertImage(builder);
  if (service.entrypoint !== undefined) builder.container['entrypoint'] = service.entrypoint.map(literal);
  if (service.command !== undefined) builder.container['cmd'] = service.command.map(literal);
  await convertEnvironment(builder);
  convertPorts(builder);
  convertVolumes(builder);
  convertNetworks(builder);
  convertSimpleKeys(builder);
  const deploy = convertDeploy(builder);
  convertRestart(builder, deploy);
  convertHealthcheck(builder);
  await convertSecrets(builder);
  await convertConfigs(builder);

  const runnable = builder.runnable;
  const containers: ComposeRecord = {};
  setOwn(containers, service.name, builder.container);
  runnable['containers'] = containers;
  if (builder.services.size > 0) {
    runnable['services'] = Object.fromEntries(
      [...builder.services].map(([key, entry]) => [
        key,
        { container: service.name, port: entry.port, protocol: entry.protocol },
      ]),
    );
  }
  if (Object.keys(builder.files).length > 0) runnable['files'] = builder.files;
  if (Object.keys(builder.permittedSecrets).length > 0)
    runnable['permitted-secrets'] = builder.permittedSecrets;
  const serviceNames = [...builder.services]
    .sort(([, a], [, b]) => Number(b.published) - Number(a.published))
    .map(([key]) => key);
  return { runnable, serviceNames };
}
