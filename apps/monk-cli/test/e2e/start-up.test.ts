import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commands } from '../../src/commands.ts';

// The built bin/monk (pnpm build), without a monkd: what its start-up paths (the fast commands, oclif with
// one command, oclif with every command) answer must not depend on which path answered.
const repoRoot = join(import.meta.dirname, '../../../..');
const home = mkdtempSync(join(tmpdir(), 'monk-start-up-'));
const missingSocket = join(home, 'monkd.sock');

function monk(args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(join(repoRoot, 'bin/monk'), args, {
    env: { ...process.env, MONK_HOME: home, MONK_SOCKET: missingSocket, NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('bin/monk start-up paths', () => {
  it('lists every command of src/commands.ts in help', () => {
    const help = monk(['--help']);
    expect(help.code).toBe(0);
    const topics = monk(['cluster', '--help']).stdout + monk(['secrets', '--help']).stdout;
    const registry = monk(['registry', '--help']).stdout;
    for (const id of Object.keys(commands)) {
      const words = id.split(':');
      const listing = words.length === 1 ? help.stdout : `${topics}${registry}`;
      // oclif lists each command on a line of its own, alone when some names are long or after its description.
      const lines = listing.split('\n').map((line) => line.trim());
      expect(
        lines.some((line) => line === words.join(' ') || line.startsWith(`${words.join(' ')} `)),
        `${id} in:\n${listing}`,
      ).toBe(true);
    }
  });

  it.each([
    [['ps', '--help'], '$ monk ps -a --json'],
    [['cluster', 'peers', '--help'], '$ monk cluster peers --json'],
    [['info', '--help'], 'EXAMPLES'],
  ])('%j shows the command help with examples', (args, example) => {
    const result = monk(args);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(example);
  });

  it.each([[['ps']], [['ps', '-a']], [['cluster', 'peers']], [['info']], [['list']]])(
    '%j without a daemon: DAEMON_UNAVAILABLE, exit 3, the same words on every path',
    (args) => {
      const text = monk(args);
      expect(text.code).toBe(3);
      expect(text.stderr).toBe(
        `Error [DAEMON_UNAVAILABLE]: monkd is not answering at ${missingSocket} (ENOENT); start it with bin/monkd or scripts/up.sh\n`,
      );
      const json = monk([...args, '--json']);
      expect(json.code).toBe(3);
      expect(JSON.parse(json.stdout)).toEqual({
        error: {
          code: 'DAEMON_UNAVAILABLE',
          message: text.stderr.slice('Error [DAEMON_UNAVAILABLE]: '.length, -1),
        },
      });
    },
  );

  it('refuses an unknown command or flag with exit 2', () => {
    expect(monk(['pss']).code).toBe(2);
    const flag = monk(['ps', '--bogus']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('Nonexistent flag: --bogus');
  });
});
