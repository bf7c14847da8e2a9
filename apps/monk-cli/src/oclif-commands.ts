// oclif's explicit command discovery (package.json `oclif.commands`): the classes of the commands oclif may
// run. When argv names a command (`monk cluster peers ...`), only that command's module is loaded, so a
// command costs its own code and not every other command's; help, topics, aliases and typos see them all.
// It reads process.argv because oclif gives this module nothing else: it exists only for the `monk` process.
import type { Command } from '@oclif/core';
import { commandIdOf, commands as loaders, loadCommand, type CommandId } from './commands.ts';

const named = commandIdOf(process.argv.slice(2));
// `monk completion` describes every command, so it sees them all too.
const ids = named === undefined || named === 'completion' ? (Object.keys(loaders) as CommandId[]) : [named];

/** The command classes oclif sees, by id. */
export const commands: Record<string, Command.Class> = Object.fromEntries(
  await Promise.all(ids.map(async (id) => [id, (await loadCommand(id)) as Command.Class] as const)),
);
