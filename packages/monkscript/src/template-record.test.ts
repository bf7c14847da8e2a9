import { describe, expect, it } from 'vitest';
import { maxTemplateRecordBytes, parseTemplateRecord } from './template-record.ts';
import { thrown } from './test-support.ts';

const record = {
  path: 'shop/api',
  namespace: 'shop',
  name: 'api',
  kind: 'runnable',
  file: '/kit/app.yaml',
  definition: { defines: 'runnable' },
  locations: { '': [2, 1] },
};

describe('parseTemplateRecord', () => {
  it('accepts a well-formed record', () => {
    expect(parseTemplateRecord(record, 'template #1')).toEqual(record);
  });

  it.each([
    { path: '../../etc', namespace: '..', name: '../etc' },
    { path: 'shop/../../etc', namespace: 'shop', name: '../../etc' },
    { path: '/shop/api', namespace: 'shop', name: 'api' },
    { path: 'shop', namespace: 'shop', name: 'x' },
    { path: 'shop/.hidden', namespace: 'shop', name: '.hidden' },
    { path: 'shop/a b', namespace: 'shop', name: 'a b' },
  ])('refuses the path $path, naming it', (bad) => {
    const error = thrown(() => parseTemplateRecord({ ...record, ...bad }, 'template #2'));
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.message).toContain(`template #2 has the path ${JSON.stringify(bad.path)}`);
  });

  it('refuses a record whose namespace and name disagree with its path', () => {
    const error = thrown(() => parseTemplateRecord({ ...record, name: 'other' }, 'template #1'));
    expect(error.message).toBe(
      'template #1 has the path "shop/api" but namespace "shop" and name "other"; they must agree (namespace/name, no leading "/")',
    );
  });

  it('refuses a malformed record', () => {
    const error = thrown(() => parseTemplateRecord({ path: 'shop/api' }, 'template #1'));
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.message).toMatch(/^template #1 is malformed/);
  });

  it('refuses a record over the size limit before validating it, with the limit in the message', () => {
    const huge = { ...record, definition: { defines: 'runnable', blob: 'x'.repeat(maxTemplateRecordBytes) } };
    const error = thrown(() => parseTemplateRecord(huge, 'template #1'));
    expect(error.code).toBe('TEMPLATE_TOO_LARGE');
    expect(error.message).toBe(
      'template #1 (shop/api) is 8.1 MiB as JSON; monkd accepts templates of at most 8 MiB (template files: at most 4 MiB)',
    );
  });
});
