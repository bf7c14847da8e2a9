import { matchFastCommand, runFastCommand } from './fast-commands.ts';

// What `monk` does with argv (src/main.ts loads this once Node's compile cache is on): answer the most
// common commands without oclif (src/fast-commands.ts); hand everything else to oclif, which loads only the
// command argv names (src/oclif-commands.ts). Bundled on its own (scripts/bundle.ts): it must not import
// src/commands.ts, whose loaders would pull every command into this file.

const argv = process.argv.slice(2);
const fast = matchFastCommand(argv);
const exitCode =
  fast === undefined
    ? undefined
    : await runFastCommand(fast, {
        env: process.env,
        output: {
          stdout: (text) => process.stdout.write(text),
          stderr: (text) => process.stderr.write(text),
        },
        now: () => new Date(),
      });
if (exitCode === undefined) {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
} else {
  process.exitCode = exitCode;
}
