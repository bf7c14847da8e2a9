import { chmod, mkdir, stat } from 'node:fs/promises';
import type { Logger } from './logger.ts';

/**
 * Makes the data dir private to monkd's user: creates it with mode 0700 when missing, and tightens an
 * existing one whose mode lets the group or others in (0755 → 0700), saying so in the log. Keys, tokens
 * and the graph live there.
 *
 * @throws the file system's error when the dir cannot be created, inspected or changed.
 * @example
 * await securePrivateDir('/var/lib/monk', logger);
 */
export async function securePrivateDir(dir: string, logger: Logger): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const mode = (await stat(dir)).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  await chmod(dir, mode & 0o700);
  logger.warn(
    `tightened the data dir ${dir} from mode ${octal(mode)} to ${octal(mode & 0o700)}: only monkd's user may read it`,
    { dir },
  );
}

const octal = (mode: number): string => `0${mode.toString(8).padStart(3, '0')}`;
