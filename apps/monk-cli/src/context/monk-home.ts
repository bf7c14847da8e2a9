import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MonkError } from '@monk/model';

// Kept apart from context-store.ts (and its zod schemas) because every command reads these before it
// runs, the fast path of src/fast-commands.ts included.

/** The file under `$MONK_HOME` naming the current operator context. */
export const currentContextFile = 'current-context';

/** `$MONK_HOME`, else `~/.monk`. */
export function monkHome(env: NodeJS.ProcessEnv): string {
  const home = env['MONK_HOME'];
  return home !== undefined && home !== '' ? home : join(homedir(), '.monk');
}

/**
 * The name in `$MONK_HOME/current-context`, read synchronously (the CLI picks its transport before any
 * command code runs). Undefined when there is no such file or it is empty. Throws `STORAGE_FAILED` when the
 * file exists but cannot be read.
 */
export function readCurrentContextName(home: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(join(home, currentContextFile), 'utf8');
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === 'ENOENT') return undefined;
    const message = error instanceof Error ? error.message : String(error);
    throw new MonkError('STORAGE_FAILED', `cannot read ${join(home, currentContextFile)}: ${message}`, {
      cause: error,
    });
  }
  const name = text.trim();
  return name === '' ? undefined : name;
}
