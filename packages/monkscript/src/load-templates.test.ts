import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maxTemplateFileBytes, templateRecordSchema } from './template-record.ts';
import { createMemoryFileSource, createNodeFileSource, type FileSource } from './file-source.ts';
import { loadDocuments } from './load-documents.ts';
import { loadTemplates } from './load-templates.ts';
import { createTemplateSource } from './template-source.ts';
import { rejection, thrown } from './test-support.ts';

const app = `namespace: shop
base:
  metadata:
    private: true
  containers:
    web:
      image: nginx
api:
  defines: runnable
  inherits: ./base
worker:
  defines: runnable
  inherits: /shop/base
  boxes:
    defines: containers
    job:
      image: busybox
stack:
  defines: process-group
  runnable-list:
    - shop/api
    - ./worker
everything:
  defines: group
  members: [shop/stack]
db:
  defines: other/database
kind:
  defines: entity
svc:
  defines: service
mod:
  defines: module
`;

describe('loadTemplates', () => {
  it('loads a file into records of every kind, with locations relative to the block', async () => {
    const files = createMemoryFileSource({ '/kit/app.yaml': app });
    const { templates, warnings } = await loadTemplates({ entries: ['/kit/app.yaml'], files });
    expect(templates.map((record) => [record.path, record.kind])).toEqual([
      ['shop/base', 'base'],
      ['shop/api', 'runnable'],
      ['shop/worker', 'runnable'],
      ['shop/stack', 'process-group'],
      ['shop/everything', 'group'],
      ['shop/db', 'entity-instance'],
      ['shop/kind', 'entity'],
      ['shop/svc', 'service'],
      ['shop/mod', 'module'],
    ]);
    const worker = templates.find((record) => record.path === 'shop/worker');
    expect(worker?.locations['']).toEqual([11, 1]);
    expect(worker?.locations['boxes/job/image']).toEqual([17, 7]);
    expect(worker?.file).toBe('/kit/app.yaml');
    for (const record of templates) templateRecordSchema.parse(JSON.parse(JSON.stringify(record)));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      code: 'UNRESOLVED_REFERENCE',
      template: 'shop/db',
      reference: 'other/database',
      location: { line: 27 },
    });
  });

  it('loads a MANIFEST with LOAD and DIRS, expands <<< embeds relative to the template', async () => {
    const files = createMemoryFileSource({
      '/repo/MANIFEST': 'REPO r\nDIRS one\nENTRY two/app',
      '/repo/one/MANIFEST': 'LOAD y/app.yaml',
      '/repo/one/y/app.yaml':
        'namespace: two\napp:\n  defines: runnable\n  files:\n    conf:\n      contents: <<< conf/app.conf\n',
      '/repo/one/y/conf/app.conf': 'listen 80;\n',
    });
    const { templates, manifests } = await loadTemplates({ entries: ['/repo/MANIFEST'], files });
    expect(templates[0]?.definition).toEqual({
      defines: 'runnable',
      files: { conf: { contents: 'listen 80;\n' } },
    });
    expect(manifests.map((manifest) => manifest.file)).toEqual(['/repo/MANIFEST', '/repo/one/MANIFEST']);
    expect(manifests[0]?.entry).toBe('two/app');
  });

  it('loads a folder: its MANIFEST if any, else its YAML files in name order', async () => {
    const files = createMemoryFileSource({
      '/d/b.yml': 'namespace: n\nb:\n  defines: runnable\n',
      '/d/a.yaml': 'namespace: n\na:\n  defines: runnable\n',
      '/d/notes.txt': 'ignored',
    });
    const { templates } = await loadTemplates({ entries: ['/d'], files });
    expect(templates.map((record) => record.path)).toEqual(['n/a', 'n/b']);
  });

  it('fails the whole load when one embed is missing, naming template file, key and missing file', async () => {
    const files = createMemoryFileSource({
      '/k/MANIFEST': 'LOAD good.yaml bad.yaml',
      '/k/good.yaml': 'namespace: k\nok:\n  defines: runnable\n',
      '/k/bad.yaml':
        'namespace: k\nbroken:\n  defines: runnable\n  files:\n    s:\n      contents: <<< files/missing.sh\n',
    });
    const error = await rejection(loadTemplates({ entries: ['/k/MANIFEST'], files }));
    expect(error.code).toBe('EMBED_NOT_FOUND');
    expect(error.details).toEqual({
      templateFile: '/k/bad.yaml',
      key: 'broken/files/s/contents',
      embeddedFile: '/k/files/missing.sh',
      missing: [
        { templateFile: '/k/bad.yaml', key: 'broken/files/s/contents', embeddedFile: '/k/files/missing.sh' },
      ],
    });
    expect(error.location).toEqual({
      file: '/k/bad.yaml',
      line: 6,
      column: 7,
      path: 'broken/files/s/contents',
    });
  });

  it('reports errors with file, line, column and key path', async () => {
    const cases: [string, string, string, number][] = [
      ['x: 1\n', 'TEMPLATE_INVALID', 'namespace', 1],
      ['namespace: a\nx: 5\n', 'TEMPLATE_INVALID', 'must be a map', 2],
      ['namespace: a\nx:\n  defines: rocket\n', 'TEMPLATE_INVALID', 'unknown "defines', 3],
      ['namespace: a\nx:\n  defines: runnable\n  inherits: [a]\n', 'TEMPLATE_INVALID', 'a/x/inherits', 4],
      [
        'namespace: a\nx:\n  defines: runnable\n  containers:\n    c: nginx\n',
        'TEMPLATE_INVALID',
        'a/x/containers/c',
        5,
      ],
      [
        'namespace: a\nx:\n  defines: process-group\n  runnable-list: [1]\n',
        'TEMPLATE_INVALID',
        'runnable-list/0',
        4,
      ],
      ['namespace: a\nx: {defines: runnable\n', 'TEMPLATE_PARSE_ERROR', 'bad.yaml', 3],
    ];
    for (const [text, code, fragment, line] of cases) {
      const error = await rejection(
        loadTemplates({ entries: ['/bad.yaml'], files: createMemoryFileSource({ '/bad.yaml': text }) }),
      );
      expect(error.code, text).toBe(code);
      expect(error.message, text).toContain(fragment);
      expect(error.location?.file).toBe('/bad.yaml');
      expect(error.location?.line, text).toBe(line);
    }
  });

  it('names missing entries and MANIFEST files', async () => {
    const files = createMemoryFileSource({ '/k/MANIFEST': 'LOAD nope.yaml', '/j/MANIFEST': 'DIRS gone' });
    expect((await rejection(loadTemplates({ entries: ['/nothing'], files }))).code).toBe(
      'TEMPLATE_NOT_FOUND',
    );
    expect((await rejection(loadTemplates({ entries: ['/k/MANIFEST'], files }))).message).toContain(
      '/k/nope.yaml',
    );
    expect((await rejection(loadTemplates({ entries: ['/j'], files }))).message).toContain('/j/gone');
  });

  it('warns when a later file redefines a template, and keeps the later one', async () => {
    const files = createMemoryFileSource({
      '/a.yaml': 'namespace: n\nx:\n  defines: runnable\n  scale: 1\n',
      '/b.yaml': 'namespace: /n\nx:\n  defines: runnable\n  scale: 2\n',
    });
    const { templates, warnings } = await loadTemplates({ entries: ['/a.yaml', '/b.yaml'], files });
    expect(templates.map((record) => record.definition['scale'])).toEqual([2]);
    expect(warnings.map((warning) => warning.code)).toEqual(['DUPLICATE_TEMPLATE']);
  });

  it('does not warn about references to templates known from earlier loads', async () => {
    const files = createMemoryFileSource({
      '/a.yaml': 'namespace: n\nx:\n  defines: runnable\n  inherits: hub/base\n',
    });
    expect((await loadTemplates({ entries: ['/a.yaml'], files })).warnings).toHaveLength(1);
    const known = loadDocuments({
      file: 'hub.yaml',
      documents: [{ namespace: 'hub', base: { containers: { c: { image: 'x' } } } }],
    });
    expect(
      (await loadTemplates({ entries: ['/a.yaml'], files, known: createTemplateSource(known.templates) }))
        .warnings,
    ).toEqual([]);
  });

  it('does not warn about references to templates the cluster already holds (knownPaths)', async () => {
    const files = createMemoryFileSource({
      '/a.yaml':
        'namespace: agentsmesh-postgres\nbase:\n  defines: runnable\n  inherits: postgresql/db-v16\n  connections: {x: {runnable: other/thing, service: s}}\n',
    });
    const held = await loadTemplates({ entries: ['/a.yaml'], files, knownPaths: ['postgresql/db-v16'] });
    expect(held.warnings.map((warning) => warning.reference)).toEqual(['other/thing']);
    expect(held.warnings[0]?.message).toContain(
      'refers to other/thing (connections/x/runnable), which is not loaded',
    );
  });

  it('routes Compose files to the Compose importer', async () => {
    const files = createMemoryFileSource({
      '/proj/compose.yaml': 'services:\n  web:\n    image: nginx:1.27\n    ports: ["8080:80"]\n',
    });
    const { templates } = await loadTemplates({ entries: ['/proj'], files });
    expect(templates.some((record) => record.kind === 'runnable' && record.name === 'web')).toBe(true);
  });
});

describe('loadTemplates: file size limit', () => {
  /** A file source that fails the test if a file is read whose size is over the limit. */
  const refusingToReadLarge = (files: FileSource): FileSource & { read: string[] } => {
    const read: string[] = [];
    return {
      ...files,
      read,
      readFile: async (path) => {
        read.push(path);
        if ((await files.fileSize(path)) > maxTemplateFileBytes) throw new Error(`read ${path} in full`);
        return files.readFile(path);
      },
    };
  };
  const large = 'x'.repeat(maxTemplateFileBytes + 1);

  it('refuses a template file over 4 MiB by its size, before reading it, naming the file and the limit', async () => {
    const files = refusingToReadLarge(
      createMemoryFileSource({ '/kit/huge.yaml': `namespace: a\n#${large}` }),
    );
    const error = await rejection(loadTemplates({ entries: ['/kit/huge.yaml'], files }));
    expect(error.code).toBe('TEMPLATE_TOO_LARGE');
    expect(error.message).toBe(
      '/kit/huge.yaml is 4.1 MiB; monk reads template files of at most 4 MiB (split it into several files, or keep large data out of templates)',
    );
    expect(files.read).toEqual([]);
  });

  it('applies the limit to MANIFESTs and <<< embeds too', async () => {
    const manifest = refusingToReadLarge(
      createMemoryFileSource({ '/kit/MANIFEST': `LOAD a.yaml\n#${large}` }),
    );
    expect((await rejection(loadTemplates({ entries: ['/kit'], files: manifest }))).code).toBe(
      'TEMPLATE_TOO_LARGE',
    );
    const embed = refusingToReadLarge(
      createMemoryFileSource({
        '/kit/app.yaml':
          'namespace: a\napp:\n  defines: runnable\n  files:\n    f:\n      contents: <<< big.bin\n',
        '/kit/big.bin': large,
      }),
    );
    const error = await rejection(loadTemplates({ entries: ['/kit/app.yaml'], files: embed }));
    expect(error.code).toBe('TEMPLATE_TOO_LARGE');
    expect(error.message).toContain('/kit/big.bin is');
  });

  it('refuses a 50 MB file on disk at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'monk-load-size-'));
    try {
      const file = join(dir, 'huge.yaml');
      await writeFile(file, 'namespace: a\n');
      await truncate(file, 50 * 1000 * 1000);
      const started = Date.now();
      const error = await rejection(loadTemplates({ entries: [file], files: createNodeFileSource() }));
      expect(error.code).toBe('TEMPLATE_TOO_LARGE');
      expect(error.message).toContain(`${file} is 47.7 MiB`);
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('loads a file just under the limit', async () => {
    const text = `namespace: a\napp:\n  defines: runnable\n`;
    const files = createMemoryFileSource({
      '/kit/app.yaml': `${text}#${'x'.repeat(maxTemplateFileBytes - text.length - 2)}\n`,
    });
    const { templates } = await loadTemplates({ entries: ['/kit/app.yaml'], files });
    expect(templates.map((t) => t.path)).toEqual(['a/app']);
  });
});

describe('loadDocuments', () => {
  it('loads plain objects and refuses values that are not JSON', () => {
    const { templates } = loadDocuments({
      file: 'mem',
      documents: [{ namespace: 'm', r: { defines: 'runnable', x: undefined } }],
    });
    expect(templates[0]?.definition).toEqual({ defines: 'runnable' });
    expect(templates[0]?.locations).toEqual({});
    expect(
      thrown(() => loadDocuments({ file: 'mem', documents: [{ namespace: 'm', r: { f: () => 1 } }] })).code,
    ).toBe('TEMPLATE_INVALID');
    expect(
      thrown(() => loadDocuments({ file: 'mem', documents: [{ namespace: 'm', r: { n: Number.NaN } }] }))
        .code,
    ).toBe('TEMPLATE_INVALID');
  });
});
