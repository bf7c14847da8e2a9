import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MonkError } from '@monk/model';
import { createMemoryFileSource } from './file-source.ts';
import { loadTemplates } from './load-templates.ts';
import { parseManifest } from './parse-manifest.ts';
import { parseYamlDocuments } from './parse-yaml.ts';
import { resolveDeployment } from './resolve-deployment.ts';
import { createTemplateSource } from './template-source.ts';
import { testHost } from './test-support.ts';

// A fixed seed keeps CI deterministic; FUZZ_SEED explores others. fast-check prints the seed and the
// shrunk counterexample of any failure.
const seed = Number(process.env['FUZZ_SEED'] ?? 20_240_601);
const corpus = fileURLToPath(new URL('../../../../shared/conformance/monk-kits', import.meta.url));
const kitTexts = [
  'wordpress-mysql/wordpress.yml',
  'redis-cluster-sentinel-haproxy/redis.yml',
  'postgresql/postgres.yml',
  'chatwoot/stack.yml',
].map((file) => readFileSync(`${corpus}/${file}`, 'utf8'));
const manifestTexts = [
  'nginx/MANIFEST',
  'agentsmesh/MANIFEST',
  'auth0-integration/MANIFEST',
  'redis/repo-root.MANIFEST',
].map((file) => readFileSync(`${corpus}/${file}`, 'utf8'));

const pieces = [
  '{',
  '}',
  '[',
  ']',
  ':',
  ': ',
  '- ',
  '<- ',
  '<<< x',
  '`',
  '${',
  '$',
  '"',
  "'",
  '\n',
  '  ',
  '---\n',
  '&a ',
  '*a',
  '!!str ',
  '? ',
  '#',
  'defines: runnable',
  'inherits: ./x',
  '0755',
  '\t',
  '\u0000',
  'é',
];

const mutation = fc.record({
  at: fc.nat(),
  length: fc.nat({ max: 40 }),
  kind: fc.constantFrom('delete', 'insert', 'duplicate-line', 'replace'),
  text: fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 8 })),
});

function mutate(
  text: string,
  mutations: readonly { at: number; length: number; kind: string; text: string }[],
): string {
  let result = text;
  for (const { at, length, kind, text: insert } of mutations) {
    const position = result.length === 0 ? 0 : at % result.length;
    if (kind === 'delete') result = result.slice(0, position) + result.slice(position + length);
    else if (kind === 'insert') result = result.slice(0, position) + insert + result.slice(position);
    else if (kind === 'replace')
      result = result.slice(0, position) + insert + result.slice(position + length);
    else {
      const start = result.lastIndexOf('\n', position) + 1;
      const end = result.indexOf('\n', position);
      const line = result.slice(start, end < 0 ? result.length : end + 1);
      result = result.slice(0, start) + line + line + result.slice(start);
    }
  }
  return result;
}

function expectMonkErrorOrValue(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MonkError);
  }
}

async function expectMonkErrorOrResult(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!(error instanceof MonkError)) throw error;
  }
}

describe('fuzz (seeded)', () => {
  it('parseYamlDocuments: random text gives documents or a MonkError', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...pieces, 'a', 'b', ' ', '1'), maxLength: 60 }),
        (text) => {
          expectMonkErrorOrValue(() => parseYamlDocuments({ file: 'f.yaml', text }));
        },
      ),
      { seed, numRuns: 400 },
    );
  });

  it('parseManifest: random and mutated MANIFESTs give a manifest or MANIFEST_INVALID', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...manifestTexts),
        fc.array(mutation, { maxLength: 6 }),
        fc.string(),
        (text, mutations, noise) => {
          for (const input of [mutate(text, mutations), noise]) {
            try {
              parseManifest({ file: 'MANIFEST', text: input });
            } catch (error) {
              expect(error).toBeInstanceOf(MonkError);
              expect((error as MonkError).code).toBe('MANIFEST_INVALID');
            }
          }
        },
      ),
      { seed, numRuns: 300 },
    );
  });

  it('loadTemplates + resolveDeployment: mutated kits give records and runnables, or a MonkError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...kitTexts),
        fc.array(mutation, { minLength: 1, maxLength: 5 }),
        async (text, mutations) => {
          const files = createMemoryFileSource({
            '/kit/a.yaml': mutate(text, mutations),
            '/kit/x': 'embedded',
          });
          await expectMonkErrorOrResult(async () => {
            const { templates } = await loadTemplates({ entries: ['/kit/a.yaml'], files });
            const source = createTemplateSource(templates);
            for (const record of templates) {
              await expectMonkErrorOrResult(() =>
                resolveDeployment({ path: record.path, templates: source, host: testHost, volumeRoot: '/v' }),
              );
            }
          });
        },
      ),
      { seed, numRuns: 150 },
    );
  });
});
