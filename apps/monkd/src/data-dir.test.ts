import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { securePrivateDir } from './data-dir.ts';
import { createLogger } from './logger.ts';

describe('securePrivateDir', () => {
  let root: string;
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', write: (line) => lines.push(line) });
  const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'monk-data-dir-'));
    lines.length = 0;
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('tightens an existing 0755 data dir to 0700 and logs that it did', async () => {
    const dir = join(root, 'data');
    await securePrivateDir(dir, logger);
    await chmod(dir, 0o755);
    await securePrivateDir(dir, logger);
    expect(await modeOf(dir)).toBe(0o700);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      level: 'warn',
      message: `tightened the data dir ${dir} from mode 0755 to 0700: only monkd's user may read it`,
    });
  });

  it('creates a missing data dir (and its parents) with mode 0700, quietly', async () => {
    const dir = join(root, 'a', 'b');
    await securePrivateDir(dir, logger);
    expect(await modeOf(dir)).toBe(0o700);
    expect(lines).toEqual([]);
  });

  it('leaves a 0700 data dir alone', async () => {
    await chmod(root, 0o700);
    await securePrivateDir(root, logger);
    expect(await modeOf(root)).toBe(0o700);
    expect(lines).toEqual([]);
  });
});
