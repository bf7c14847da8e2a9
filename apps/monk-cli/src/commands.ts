// Every command of `monk`, one line each: the id (topic and command joined by `:`, as oclif spells it) and
// a loader that imports the command's module only when that command runs. Loading a command's module is
// what costs start-up time, so nothing else here is imported eagerly (see docs/cli.md, "Start-up").
//
// To add a command: write src/commands/NAME.ts exporting one class that extends MonkCommand (with a
// description, examples and flags), then add one line below, in alphabetical order:
//   'topic:name': () => import('./commands/topic-name.ts'),
// `monk --help`, oclif's explicit discovery (src/oclif-commands.ts) and the fast dispatcher (src/main.ts)
// all read this map.

/** A command's module: it exports the command class (the one export with a static `run`). */
export type CommandModule = Record<string, unknown>;

/** Every command of `monk`: id → a loader of its module. */
export const commands = {
  actions: () => import('./commands/actions.ts'),
  'cluster:contexts': () => import('./commands/cluster-contexts.ts'),
  'cluster:destroy': () => import('./commands/cluster-destroy.ts'),
  'cluster:exit': () => import('./commands/cluster-exit.ts'),
  'cluster:grow': () => import('./commands/cluster-grow.ts'),
  'cluster:info': () => import('./commands/cluster-info.ts'),
  'cluster:join': () => import('./commands/cluster-join.ts'),
  'cluster:join-token': () => import('./commands/cluster-join-token.ts'),
  'cluster:new': () => import('./commands/cluster-new.ts'),
  'cluster:operators': () => import('./commands/cluster-operators.ts'),
  'cluster:peer-remove': () => import('./commands/cluster-peer-remove.ts'),
  'cluster:peer-tags': () => import('./commands/cluster-peer-tags.ts'),
  'cluster:peers': () => import('./commands/cluster-peers.ts'),
  'cluster:shrink': () => import('./commands/cluster-shrink.ts'),
  'cluster:switch': () => import('./commands/cluster-switch.ts'),
  completion: () => import('./commands/completion.ts'),
  describe: () => import('./commands/describe.ts'),
  do: () => import('./commands/do.ts'),
  dump: () => import('./commands/dump.ts'),
  events: () => import('./commands/events.ts'),
  exec: () => import('./commands/exec.ts'),
  images: () => import('./commands/images.ts'),
  import: () => import('./commands/import.ts'),
  info: () => import('./commands/info.ts'),
  list: () => import('./commands/list.ts'),
  load: () => import('./commands/load.ts'),
  logs: () => import('./commands/logs.ts'),
  plan: () => import('./commands/plan.ts'),
  'port-forward': () => import('./commands/port-forward.ts'),
  ps: () => import('./commands/ps.ts'),
  purge: () => import('./commands/purge.ts'),
  'registry:list': () => import('./commands/registry-list.ts'),
  'registry:login': () => import('./commands/registry-login.ts'),
  'registry:logout': () => import('./commands/registry-logout.ts'),
  restart: () => import('./commands/restart.ts'),
  run: () => import('./commands/run.ts'),
  scale: () => import('./commands/scale.ts'),
  'secrets:add': () => import('./commands/secrets-add.ts'),
  'secrets:list': () => import('./commands/secrets-list.ts'),
  'secrets:remove': () => import('./commands/secrets-remove.ts'),
  shell: () => import('./commands/shell.ts'),
  stats: () => import('./commands/stats.ts'),
  status: () => import('./commands/status.ts'),
  stop: () => import('./commands/stop.ts'),
  update: () => import('./commands/update.ts'),
  version: () => import('./commands/version.ts'),
} satisfies Record<string, () => Promise<CommandModule>>;

/** The id of a command, as in {@link commands}. */
export type CommandId = keyof typeof commands;

/** Whether `id` names a command of {@link commands}. */
export function isCommandId(id: string): id is CommandId {
  return Object.hasOwn(commands, id);
}

/** Imports a command's module and returns its class (the export with a static `run`, as oclif finds it). */
export async function loadCommand(id: CommandId): Promise<unknown> {
  const module: CommandModule = await commands[id]();
  const found = Object.values(module).find(
    (value) => typeof value === 'function' && typeof (value as { run?: unknown }).run === 'function',
  );
  if (found === undefined) throw new Error(`src/commands.ts: the module of "${id}" exports no command class`);
  return found;
}

/**
 * The command the leading words of argv name, longest first (`cluster:peers` for `cluster peers --json`);
 * undefined for a topic, `help`, an alias or anything else that is not an id of {@link commands}.
 *
 * @example
 * commandIdOf(['cluster', 'peers', '--json']); // 'cluster:peers'
 * commandIdOf(['run', 'ns/app']); // 'run'
 * commandIdOf(['cluster', '--help']); // undefined
 */
export function commandIdOf(argv: readonly string[]): CommandId | undefined {
  const words: string[] = [];
  for (const arg of argv) {
    if (arg.startsWith('-')) break;
    words.push(arg);
  }
  for (let n = words.length; n > 0; n--) {
    const id = words.slice(0, n).join(':');
    if (isCommandId(id)) return id;
  }
  return undefined;
}
