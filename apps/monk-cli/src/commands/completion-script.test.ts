import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bashCompletionScript, type CompletionCommand } from './completion-script.ts';

const run = promisify(execFile);

const commands: CompletionCommand[] = [
  { id: 'ps', flags: [{ name: 'all', char: 'a', takesValue: false }], takesPath: false },
  {
    id: 'logs',
    flags: [
      { name: 'follow', char: 'f', takesValue: false },
      { name: 'container', char: 'c', takesValue: true },
    ],
    takesPath: true,
  },
  { id: 'cluster:peers', flags: [], takesPath: false },
  { id: 'cluster:peer-tags', flags: [{ name: 'tag', takesValue: true }], takesPath: false },
  { id: 'load', flags: [], takesPath: false },
];

describe('bash completion script (real bash, a stand-in monk that lists two templates)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'monk-completion-'));
    await writeFile(join(dir, 'script.bash'), bashCompletionScript(commands));
    const fakeMonk = join(dir, 'monk');
    await writeFile(
      fakeMonk,
      `#!/usr/bin/env bash\n[[ "$1 $2" == "list --json" ]] && printf '[\\n  {\\n    "path": "shop/db",\\n    "kind": "runnable"\\n  },\\n  {\\n    "path": "shop/web"\\n  }\\n]\\n'\n`,
    );
    await chmod(fakeMonk, 0o755);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** What bash offers for the command line `words` (the last word is the one being completed). */
  async function complete(words: readonly string[]): Promise<string[]> {
    const quoted = words.map((w) => `'${w}'`).join(' ');
    const { stdout } = await run(
      'bash',
      [
        '-c',
        `source script.bash; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _monk; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      { cwd: dir },
    );
    return stdout.split('\n').filter((line) => line !== '');
  }

  it('registers itself for monk', async () => {
    const { stdout } = await run('bash', ['-c', 'source script.bash; complete -p monk'], { cwd: dir });
    expect(stdout.trim()).toBe('complete -o default -F _monk monk');
  });

  it.each([
    [
      ['monk', ''],
      ['cluster', 'load', 'logs', 'ps'],
    ],
    [
      ['monk', 'l'],
      ['load', 'logs'],
    ],
    [
      ['monk', 'cluster', 'pe'],
      ['peer-tags', 'peers'],
    ],
    [['monk', 'ps', '--'], ['--all']],
    [
      ['monk', 'logs', '-'],
      ['--follow', '-f', '--container', '-c'],
    ],
    [['monk', 'cluster', 'peer-tags', '--'], ['--tag']],
  ])('completes commands and flags: %j', async (words, expected) => {
    expect(await complete(words)).toEqual(expected);
  });

  it.each([
    [
      ['./monk', 'logs', 'shop/'],
      ['shop/db', 'shop/web'],
    ],
    [['./monk', 'logs', '-c', 'web', 'shop/w'], ['shop/web']],
    [['./monk', 'logs', 'shop/db', ''], []],
    [['./monk', 'ps', ''], []],
  ])('completes template paths from monk list --json: %j', async (words, expected) => {
    expect(await complete(words)).toEqual(expected);
  });
});
