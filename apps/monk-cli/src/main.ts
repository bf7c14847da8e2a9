#!/usr/bin/env node
import { enableCompileCache } from 'node:module';

// Start-up is most of a short command's time (docs/cli.md, "Start-up"). Cache compiled code between runs
// (Node's own cache dir) before anything else is loaded: modules imported statically here would be compiled
// before this line runs, so the CLI itself is imported after it.
enableCompileCache();
// Not awaited: oclif ends some commands with process.exit(), and Node warns about an "unsettled top-level
// await" when that happens while the entry module still awaits.
void import('./cli.ts');
