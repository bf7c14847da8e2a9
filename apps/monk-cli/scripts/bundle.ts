// `pnpm build` of the CLI: bundles src/ (and the workspace packages and libraries it imports) with esbuild
// into dist/, so that a command loads only the code it uses. Start-up is most of a short command's time
// (docs/cli.md, "Start-up"), and Node spends it resolving, reading and compiling modules. Types are checked
// by `pnpm typecheck`, not here.
//
// dist/main.js             the `monk` binary (bin/monk runs it): turns on Node's compile cache, loads cli.js
// dist/cli.js              argv dispatch and the fast commands, one file with only what they use
// dist/oclif-commands.js   every other command, through oclif (package.json `oclif.commands`), split into
// dist/chunks/*.js         one chunk per command plus the code they share, loaded on demand
//
// cli.js is a bundle of its own, not a chunk of the split build: esbuild places shared code into chunks by
// which entry points reach a file, and through the packages' index files every module would reach zod.
// @oclif/core stays a normal dependency loaded from node_modules (it reads its own files at run time).
import { rmSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { build, type BuildOptions, type Plugin } from 'esbuild';

const root = join(import.meta.dirname, '..');
const packagesDir = join(root, '..', '..', 'packages') + sep;

/**
 * The workspace packages have no top-level side effects: marking their files so lets esbuild drop every
 * module a command does not import from (the zod schemas of @monk/model, say, when a command only needs
 * MonkError). Their package.json cannot say so without changing how the daemon is built.
 */
const workspaceHasNoSideEffects: Plugin = {
  name: 'workspace-side-effect-free',
  setup(builder) {
    builder.onResolve({ filter: /^(\.{1,2}\/|@monk\/)/ }, async (args) => {
      if (args.pluginData === 'resolving') return undefined;
      const resolved = await builder.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: 'resolving',
      });
      if (resolved.errors.length > 0 || !resolved.path.startsWith(packagesDir)) return resolved;
      return { ...resolved, sideEffects: false };
    });
  },
};

/** main.ts imports cli.ts at run time, once the compile cache is on: keep it a separate file. */
const cliStaysSeparate: Plugin = {
  name: 'cli-stays-separate',
  setup(builder) {
    builder.onResolve({ filter: /^\.\/cli\.ts$/ }, () => ({ path: './cli.js', external: true }));
  },
};

const common: BuildOptions = {
  absWorkingDir: root,
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  conditions: ['@monk/source'],
  external: ['@oclif/core'],
  // Bundled CommonJS libraries still call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __monkRequire } from 'node:module'; const require = __monkRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
};

rmSync(join(root, 'dist'), { recursive: true, force: true });
const results = await Promise.all([
  build({
    ...common,
    entryPoints: { main: 'src/main.ts', cli: 'src/cli.ts' },
    plugins: [cliStaysSeparate, workspaceHasNoSideEffects],
  }),
  build({
    ...common,
    entryPoints: { 'oclif-commands': 'src/oclif-commands.ts' },
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    plugins: [workspaceHasNoSideEffects],
  }),
]);
// MONK_BUNDLE_META=FILE writes esbuild's metafiles, to see what each output holds (esbuild.github.io/analyze).
const metaFile = process.env['MONK_BUNDLE_META'];
if (metaFile !== undefined) writeFileSync(metaFile, JSON.stringify(results.map((r) => r.metafile)));
