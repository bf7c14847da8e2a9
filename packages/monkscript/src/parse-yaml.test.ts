import { describe, expect, it } from 'vitest';
import { parseYamlDocuments } from './parse-yaml.ts';
import { thrown } from './test-support.ts';

describe('parseYamlDocuments', () => {
  it('keeps the line and column of every key and list item', () => {
    const [document] = parseYamlDocuments({
      file: 'kit.yaml',
      text: 'namespace: a\n\napp:\n  defines: runnable\n  containers:\n    web:\n      paths:\n        - /a:/b\n',
    });
    expect(document?.value).toEqual({
      namespace: 'a',
      app: { defines: 'runnable', containers: { web: { paths: ['/a:/b'] } } },
    });
    expect(document?.locations.get('app')).toEqual([3, 1]);
    expect(document?.locations.get('app/containers/web')).toEqual([6, 5]);
    expect(document?.locations.get('app/containers/web/paths/0')).toEqual([8, 11]);
  });

  it('splits a stream on --- and skips empty documents', () => {
    const documents = parseYamlDocuments({
      file: 'k.yaml',
      text: '---\nnamespace: a\n---\n---\nnamespace: b\n',
    });
    expect(documents.map((document) => document.value)).toEqual([
      { namespace: 'a' },
      null,
      { namespace: 'b' },
    ]);
  });

  it('reads 0755 as octal, like Monk (Go YAML 1.1), and 644 as decimal', () => {
    const [document] = parseYamlDocuments({
      file: 'k.yaml',
      text: 'a: 0755\nb: 644\nc: 0o17\nd: "0755"\ne: 09\n',
    });
    expect(document?.value).toEqual({ a: 0o755, b: 644, c: 0o17, d: '0755', e: 9 });
  });

  it('names file, line and column of a syntax error', () => {
    const error = thrown(() =>
      parseYamlDocuments({ file: 'bad.yaml', text: 'namespace: a\napp:\n  - x\n  y: [\n' }),
    );
    expect(error.code).toBe('TEMPLATE_PARSE_ERROR');
    expect(error.location?.file).toBe('bad.yaml');
    expect(error.location?.line).toBeGreaterThan(1);
    expect(error.message).toMatch(/^bad\.yaml:\d+:\d+: /);
  });

  it('refuses duplicate keys, naming the line of the second one', () => {
    const error = thrown(() => parseYamlDocuments({ file: 'dup.yaml', text: 'namespace: a\nx: 1\nx: 2\n' }));
    expect(error.code).toBe('TEMPLATE_PARSE_ERROR');
    expect(error.location?.line).toBe(3);
  });

  it('refuses alias bombs and non-finite numbers', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let index = 1; index < 9; index += 1)
      lines.push(
        `a${index}: &a${index} [${Array(10)
          .fill(`*a${index - 1}`)
          .join(', ')}]`,
      );
    expect(thrown(() => parseYamlDocuments({ file: 'bomb.yaml', text: lines.join('\n') })).code).toBe(
      'TEMPLATE_PARSE_ERROR',
    );
    expect(thrown(() => parseYamlDocuments({ file: 'inf.yaml', text: 'x: .inf' })).message).toContain(
      'finite',
    );
  });

  it('refuses complex keys', () => {
    expect(thrown(() => parseYamlDocuments({ file: 'k.yaml', text: '? [a, b]\n: 1\n' })).message).toContain(
      'plain scalars',
    );
  });
});
