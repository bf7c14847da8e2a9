// Load + resolve of the whole monk-kits conformance corpus, in milliseconds (median of several rounds,
// after a warm-up). Run from the repository root:
//   node --conditions=@monk/source packages/monkscript/bench/kits.bench.ts
import { join } from 'node:path';
import { toDnsLabel } from '@monk/model';
import {
  createNodeFileSource,
  createTemplateSource,
  loadTemplates,
  resolveDeployment,
} from '../src/index.ts';
import type { ResolveHost, TemplateRecord } from '../src/index.ts';

const corpus = join(import.meta.dirname, '../../../../shared/conformance/monk-kits');
const kits = [
  ['redis'],
  ['postgresql'],
  ['wordpress-mysql'],
  ['redis-cluster-sentinel-haproxy'],
  ['chatwoot'],
  ['postgresql', 'agentsmesh'],
];
const files = createNodeFileSource();
const host: ResolveHost = {
  hostnameOf: (path) => toDnsLabel(path.replace('/', '-')),
  secret: (name) => Promise.resolve(`secret-${name}`),
};

async function loadAll(): Promise<TemplateRecord[][]> {
  const loaded: TemplateRecord[][] = [];
  for (const entries of kits)
    loaded.push(
      (await loadTemplates({ entries: entries.map((name) => join(corpus, name)), files })).templates,
    );
  return loaded;
}

async function resolveAll(loaded: readonly TemplateRecord[][]): Promise<number> {
  let runnables = 0;
  for (const templates of loaded) {
    const source = createTemplateSource(templates);
    for (const record of templates) {
      if (record.kind !== 'process-group' && record.kind !== 'runnable') continue;
      if (record.namespace === 'redis-cluster-haproxy' && record.kind === 'runnable') continue;
      const deployment = await resolveDeployment({
        path: record.path,
        templates: source,
        host,
        volumeRoot: '/var/lib/monk/volumes',
      });
      runnables += deployment.runnables.length;
    }
  }
  return runnables;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const rounds = 15;
await resolveAll(await loadAll());
const loadTimes: number[] = [];
const resolveTimes: number[] = [];
let templateCount = 0;
let runnableCount = 0;
for (let round = 0; round < rounds; round += 1) {
  const started = performance.now();
  const loaded = await loadAll();
  const afterLoad = performance.now();
  runnableCount = await resolveAll(loaded);
  const afterResolve = performance.now();
  templateCount = loaded.reduce((sum, templates) => sum + templates.length, 0);
  loadTimes.push(afterLoad - started);
  resolveTimes.push(afterResolve - afterLoad);
}
const load = median(loadTimes);
const resolve = median(resolveTimes);
console.log(
  `corpus: ${kits.length} self-contained kits, ${templateCount} templates, ${runnableCount} resolved runnables (median of ${rounds})`,
);
console.log(`load (read + parse + embeds + records): ${load.toFixed(2)} ms`);
console.log(`resolve (every runnable and group):     ${resolve.toFixed(2)} ms`);
console.log(`load + resolve:                         ${(load + resolve).toFixed(2)} ms`);
