import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { MonkError } from '@monk/model';
import { importCompose } from './import-compose.ts';
import { corpusDir, loadSchema, memoryFiles } from './test-files.ts';

// Random and mutated Compose files must give a result or COMPOSE_INVALID, never another error. The seed is
// fixed so that CI is repeatable; set FUZZ_SEED (and FUZZ_RUNS) to explore. fast-check prints the seed and
// the counterexample of a failure.
const seed = Number(process.env['FUZZ_SEED'] ?? 20_240_611);
const numRuns = Number(process.env['FUZZ_RUNS'] ?? 250);

let schema: object;
let corpus: string[];
beforeAll(async () => {
  schema = await loadSchema();
  const names = [
    'nginx-flask-mysql',
    'react-express-mongodb',
    'elasticsearch-logstash-kibana',
    'pihole-cloudflared-doh',
  ];
  names.push('dogvscat-elk-stack', 'atsea-swarm-stack', 'zabbix');
  corpus = await Promise.all(names.map((name) => readFile(`${corpusDir}${name}/compose.yaml`, 'utf8')));
});

const file = '/fuzz/project/compose.yaml';
const files = memoryFiles({
  '/fuzz/project/.env': 'TAG=1\nEMPTY=\n',
  '/fuzz/project/a.env': 'A=1\nB="two"\n',
  '/fuzz/project/base.yaml':
    'services:\n  base:\n    image: busybox\n    environment: [X=1]\n  loop:\n    extends: loop\n',
  '/fuzz/project/secret.txt': 'secret',
  '/fuzz/project/config.txt': 'config',
});

async function outcome(contents: string, withSchema: boolean): Promise<void> {
  try {
    const result = await importCompose({
      file,
      contents,
      files,
      environment: { HOME: '/root', PORT: '80' },
      ...(withSchema ? { schema } : {}),
    });
    expect(typeof result.namespace).toBe('string');
    expect(result.documents).toHaveLength(1);
    JSON.stringify(result.documents);
  } catch (error) {
    if (!(error instanceof MonkError) || error.code !== 'COMPOSE_INVALID') {
      throw new Error(`unexpected error for:\n${contents}`, { cause: error });
    }
  }
}

const word = fc.constantFrom(
  'a',
  'b',
  'db',
  'web',
  'namespace',
  '__proto__',
  'constructor',
  'default',
  'x-ext',
  'base',
  'loop',
);
const text = fc.oneof(
  word,
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    '${TAG}',
    '${MISSING:-d}',
    '${X:?boom}',
    '$',
    '$$',
    '${',
    'nginx:1',
    '80:80',
    '127.0.0.1:53:53/udp',
    '8000-8001:9000-9001',
    './data:/data:ro',
    'vol:/v:roz',
    '~/x:/x',
    ':/media',
    '1.5G',
    '1m30s',
    'CMD-SHELL',
    'service_healthy',
    'a.env',
    'base.yaml',
    'secret.txt',
    '<- arrow',
  ),
);
const scalar = fc.oneof(
  text,
  fc.integer({ min: -5, max: 70_000 }),
  fc.boolean(),
  fc.constant(null),
  fc.double(),
);
const value: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(word, tie('value'), { maxKeys: 3 }),
  ),
})).value;

const serviceKeys = [
  'image',
  'build',
  'command',
  'entrypoint',
  'environment',
  'env_file',
  'ports',
  'expose',
  'volumes',
  'healthcheck',
  'depends_on',
  'deploy',
  'scale',
  'secrets',
  'configs',
  'profiles',
  'extends',
  'networks',
  'network_mode',
  'restart',
  'container_name',
  'labels',
  'init',
  'privileged',
  'cap_add',
  'sysctls',
  'ulimits',
  'tmpfs',
  'user',
  'working_dir',
  'cpus',
  'mem_limit',
  'x-note',
  'bogus',
];
const service = fc.oneof(
  fc.dictionary(fc.constantFrom(...serviceKeys), value, { maxKeys: 6 }),
  fc.record({ image: fc.constant('busybox') }),
  value,
);
const model = fc.record(
  {
    version: fc.constant('3.8'),
    name: text,
    services: fc.oneof(fc.dictionary(word, service, { maxKeys: 4 }), value),
    volumes: fc.oneof(fc.dictionary(word, value, { maxKeys: 2 }), value),
    networks: fc.oneof(fc.dictionary(word, value, { maxKeys: 2 }), value),
    secrets: fc.oneof(fc.dictionary(word, value, { maxKeys: 2 }), value),
    configs: fc.oneof(fc.dictionary(word, value, { maxKeys: 2 }), value),
    'x-anchor': value,
  },
  { requiredKeys: ['services'] },
);

type Edit = { kind: 'delete' | 'insert' | 'duplicate'; at: number; length: number; text: string };
const edit: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom('delete', 'insert', 'duplicate'),
  at: fc.nat(),
  length: fc.nat({ max: 40 }),
  text: fc.oneof(
    fc.constantFrom(':', '-', ' ', '\n', '  ', '{', '[', '"', "'", '$', '&a', '*a', '<<: *a', '#', '\t'),
    fc.string({ maxLength: 6 }),
  ),
});

function mutate(source: string, edits: readonly Edit[]): string {
  let result = source;
  for (const change of edits) {
    const at = result.length === 0 ? 0 : change.at % result.length;
    if (change.kind === 'delete') result = result.slice(0, at) + result.slice(at + change.length);
    else if (change.kind === 'insert') result = result.slice(0, at) + change.text + result.slice(at);
    else result = result.slice(0, at) + result.slice(at, at + change.length) + result.slice(at);
  }
  return result;
}

describe('importCompose on random input', () => {
  it.each([true, false])(
    'gives a result or COMPOSE_INVALID for random models (schema: %s)',
    async (withSchema) => {
      await fc.assert(
        fc.asyncProperty(model, (generated) => outcome(stringify(generated), withSchema)),
        { seed, numRuns },
      );
    },
  );

  it('gives a result or COMPOSE_INVALID for mutated corpus files', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.array(edit, { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        (pick, edits, withSchema) => outcome(mutate(corpus[pick % corpus.length] ?? '', edits), withSchema),
      ),
      { seed, numRuns },
    );
  });
});
