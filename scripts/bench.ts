// `pnpm bench`: runs every benchmark of the repository and prints their figures. Each package's
// bench/*.bench.ts is a plain script run with the package sources; bench/*.bench.ts at the root measures
// the built binaries against Docker side by side.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const only = process.argv.slice(2);
const files: string[] = [];
for (const dir of ['packages', 'apps']) {
  for (const pkg of readdirSync(join(root, dir))) {
    const bench = join(root, dir, pkg, 'bench');
    if (!existsSync(bench)) continue;
    for (const file of readdirSync(bench)) if (file.endsWith('.bench.ts')) files.push(join(bench, file));
  }
}
for (const file of readdirSync(join(root, 'bench')))
  if (file.endsWith('.bench.ts')) files.push(join(root, 'bench', file));

let failed = 0;
for (const file of files) {
  if (only.length > 0 && !only.some((o) => file.includes(o))) continue;
  console.log(`\n## ${file.slice(root.length + 1)}\n`);
  const result = spawnSync(process.execPath, ['--conditions=@monk/source', '--no-warnings', file], {
    stdio: 'inherit',
    cwd: root,
  });
  if (result.status !== 0) {
    failed += 1;
    console.log(`(exited ${result.status ?? result.signal})`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
