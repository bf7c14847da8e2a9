// Arrow evaluations per second for representative kit expressions (parse once, evaluate many times), plus parse
// throughput. Run from the repository root:
//   node --conditions=@monk/source packages/monkscript/bench/arrow.bench.ts
import type { JsonValue } from '@monk/model';
import { evaluateArrow } from '../src/arrow/evaluate.ts';
import type { ArrowHost, ArrowScope } from '../src/arrow/evaluate.ts';
import { parseArrow } from '../src/arrow/parse.ts';

const variables: Record<string, JsonValue> = {
  db_name: 'wpdb',
  'monk-volume-path': '/var/lib/monk/volumes',
  chatwoot_redis_host: 'redis',
  foo: 1,
  bar: 2,
};
const scope: ArrowScope = { lookup: (name) => variables[name] };
const host: ArrowHost = {
  connectionHostname: (name) => Promise.resolve(`${name}.monk.internal`),
  connectionPort: () => Promise.resolve(27017),
  connectionTarget: (name) => Promise.resolve(`ns/${name}`),
  entityState: () => Promise.resolve({ url: 'https://example.com' }),
  exec: () => Promise.resolve('/var/run/postgresql:5432 - accepting connections'),
};

const expressions = [
  '<- $db_name default("wpdb")',
  '<- $undefined default("latest")',
  '<- `${monk-volume-path}/wordpress/db:/var/lib/mysql`',
  '<- "redis://" $chatwoot_redis_host ":6379" concat-all',
  '<- connection-hostname("mongo-1") ":" connection-port("mongo-1") concat-all',
  '<- connection-target("site") entity-state get-member("url")',
  '<- exec("postgres", "/bin/bash", "-c", "pg_isready -U postgres") "accepting connections" contains?',
  '<- $foo 2 add div(2) to-json',
  '<- [1,2,3,4,5,6,7,8,9,10] map(<-{ 1 add }) to-json',
];

const durationMs = 400;

async function measure(run: () => unknown): Promise<number> {
  for (let index = 0; index < 200; index += 1) await run();
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < durationMs) {
    for (let index = 0; index < 100; index += 1) await run();
    count += 100;
    elapsed = performance.now() - start;
  }
  return (count / elapsed) * 1000;
}

const format = (perSecond: number): string => Math.round(perSecond).toLocaleString('en-US').padStart(12);

console.log(`${'evaluations/s'.padStart(12)}  ${'parses/s'.padStart(12)}  expression`);
for (const source of expressions) {
  const program = parseArrow(source);
  const evaluations = await measure(() => evaluateArrow(program, { scope, host }));
  const parses = await measure(() => parseArrow(source));
  console.log(`${format(evaluations)}  ${format(parses)}  ${source}`);
}
