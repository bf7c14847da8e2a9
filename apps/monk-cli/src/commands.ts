import { Describe } from './commands/describe.ts';
import { Dump } from './commands/dump.ts';
import { Exec } from './commands/exec.ts';
import { Info } from './commands/info.ts';
import { List } from './commands/list.ts';
import { Load } from './commands/load.ts';
import { Logs } from './commands/logs.ts';
import { Plan } from './commands/plan.ts';
import { Ps } from './commands/ps.ts';
import { Purge } from './commands/purge.ts';
import { Run } from './commands/run.ts';
import { Shell } from './commands/shell.ts';
import { Stop } from './commands/stop.ts';
import { Update } from './commands/update.ts';

/** Every command of `monk`, discovered explicitly (package.json `oclif.commands`). */
export const commands = {
  describe: Describe,
  dump: Dump,
  exec: Exec,
  info: Info,
  list: List,
  load: Load,
  logs: Logs,
  plan: Plan,
  ps: Ps,
  purge: Purge,
  run: Run,
  shell: Shell,
  stop: Stop,
  update: Update,
};
