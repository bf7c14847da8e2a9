import { describe, expect, it } from 'vitest';
import { loadDocuments } from './load-documents.ts';
import { deepMerge, mergeTemplate } from './merge-template.ts';
import { dumpTemplate } from './resolve-deployment.ts';
import { createTemplateSource } from './template-source.ts';
import { thrown } from './test-support.ts';

function source(documents: unknown[]) {
  return createTemplateSource(loadDocuments({ file: 'mem.yaml', documents }).templates);
}

describe('deepMerge', () => {
  it('merges maps key by key and replaces lists and scalars', () => {
    expect(
      deepMerge({ a: { x: 1, y: [1, 2] }, b: 1, c: 'keep' }, { a: { y: [3], z: null }, b: { now: 'map' } }),
    ).toEqual({
      a: { x: 1, y: [3], z: null },
      b: { now: 'map' },
      c: 'keep',
    });
  });
});

describe('mergeTemplate', () => {
  it('applies inherits across namespaces, child over parent, the chain child first', () => {
    const templates = source([
      {
        namespace: 'lib',
        base: {
          metadata: { private: true, name: 'Base' },
          containers: { c: { image: 'x', paths: ['/a:/a'] } },
          variables: { v: { type: 'int', value: 1, env: 'V' } },
        },
      },
      {
        namespace: 'app',
        mid: { defines: 'runnable', inherits: 'lib/base', containers: { c: { paths: [] } } },
        top: { inherits: './mid', metadata: { private: false }, variables: { v: 2 } },
      },
    ]);
    const merged = mergeTemplate({ path: 'app/top', templates });
    expect(merged.chain.map((record) => record.path)).toEqual(['app/top', 'app/mid', 'lib/base']);
    expect(merged.definition).toEqual({
      defines: 'runnable',
      metadata: { private: false, name: 'Base' },
      containers: { c: { image: 'x', paths: [] } },
      variables: { v: { type: 'int', value: 2, env: 'V' } },
    });
    expect(dumpTemplate({ path: '/app/mid', templates })['defines']).toBe('runnable');
  });

  it('applies inherits nested in a section, pointing into another template', () => {
    const templates = source([
      {
        namespace: 'n',
        a: { defines: 'runnable', containers: { c: { image: 'x', bash: 'run' } } },
        b: { defines: 'runnable', containers: { d: { inherits: 'n/a/containers/c', image: 'y' } } },
      },
    ]);
    expect(mergeTemplate({ path: 'n/b', templates }).definition['containers']).toEqual({
      d: { image: 'y', bash: 'run' },
    });
  });

  it('names the cycle', () => {
    const templates = source([
      { namespace: 'n', a: { inherits: 'n/b' }, b: { inherits: 'n/c' }, c: { inherits: './a' } },
    ]);
    const error = thrown(() => mergeTemplate({ path: 'n/a', templates }));
    expect(error.code).toBe('TEMPLATE_CYCLE');
    expect(error.message).toContain('n/a → n/b → n/c → n/a');
  });

  it('names a missing parent', () => {
    const error = thrown(() =>
      mergeTemplate({ path: 'n/a', templates: source([{ namespace: 'n', a: { inherits: 'hub/x' } }]) }),
    );
    expect(error.code).toBe('TEMPLATE_NOT_FOUND');
    expect(error.details?.['missing']).toEqual(['hub/x']);
  });
});
