import { describe, expect, it } from 'vitest';
import type { JsonValue } from '@monk/model';
import { renderGoTemplate } from './go-template.ts';
import { thrown } from './test-support.ts';

const variables: Record<string, JsonValue> = { host: 'db', port: 5432, empty: '', on: true, list: [1, 2] };
const render = (text: string, onUndefined?: (name: string) => void): string =>
  renderGoTemplate({
    text,
    lookup: (name) => variables[name],
    ...(onUndefined === undefined ? {} : { onUndefined }),
  });

describe('renderGoTemplate', () => {
  it('renders v and var, leaves other text alone', () => {
    expect(render('server {{ v "host" }}:{{var "port"}}; $host ${X}')).toBe('server db:5432; $host ${X}');
  });

  it('renders if / else if / else / end and trim markers', () => {
    expect(render('{{ if v "host" }}yes{{ end }}|{{ if v "empty" }}no{{ else }}else{{ end }}')).toBe(
      'yes|else',
    );
    expect(render('{{ if not (v "on") }}a{{ else if eq (v "host") "db" }}b{{ else }}c{{ end }}')).toBe('b');
    expect(render('a  {{- v "host" -}}  b\n{{/* comment */}}c')).toBe('adbb\nc');
    expect(render('{{ if and (v "on") (v "port") }}{{ len (v "list") }}{{ end }}')).toBe('2');
    expect(render('{{ printf "%s:%d" (v "host") (v "port") }} {{ v "host" | print "x" }}')).toBe(
      'db:5432 xdb',
    );
  });

  it('renders undefined variables as empty and reports them', () => {
    const seen: string[] = [];
    expect(render('[{{ v "nope" }}]', (name) => seen.push(name))).toBe('[]');
    expect(seen).toEqual(['nope']);
  });

  it('refuses what it does not support, naming the line', () => {
    for (const text of [
      'x\n{{ range v "list" }}{{ end }}',
      '{{ if v "host" }}open',
      '{{ end }}',
      '{{ foo "x" }}',
      '{{ v "x" ',
      '{{ }}',
      '{{ v "host" @ }}',
    ]) {
      const error = thrown(() => render(text));
      expect(error.code, text).toBe('TEMPLATE_INVALID');
    }
    expect(thrown(() => render('x\n{{ range v "list" }}{{ end }}')).message).toContain('line 2');
  });
});
