import { describe, expect, it } from 'vitest';
import { interpolate } from './interpolate.ts';

const variables: Record<string, string> = { SET: 'value', EMPTY: '', TAG: '1.2', NESTED: 'SET' };
const lookup = (name: string): string | undefined => variables[name];

describe('interpolate', () => {
  it.each([
    ['plain text', 'plain text'],
    ['$SET', 'value'],
    ['${SET}', 'value'],
    ['a-${SET}-b', 'a-value-b'],
    ['$SET$SET', 'valuevalue'],
    ['$$', '$'],
    ['$$SET', '$SET'],
    ['$${SET}', '${SET}'],
    ['${UNSET:-default}', 'default'],
    ['${EMPTY:-default}', 'default'],
    ['${SET:-default}', 'value'],
    ['${UNSET-default}', 'default'],
    ['${EMPTY-default}', ''],
    ['${SET:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${UNSET+alt}', ''],
    ['${SET:?needed}', 'value'],
    ['${EMPTY?needed}', ''],
    ['${UNSET:-${SET}}', 'value'],
    ['${UNSET:-${ALSO_UNSET:-deep}}', 'deep'],
    ['${UNSET:-a}:${SET}', 'a:value'],
    ['${UNSET:-x}y}', 'xy}'],
    ['image:${TAG:-latest}', 'image:1.2'],
    ['${UNSET:-with spaces and : colons}', 'with spaces and : colons'],
    // dogvscat's bcrypt default: `$2y`, `$05` stay; `$oZ…` is a variable, as in Compose.
    ['${UNSET:-$2y$05$}', '$2y$05$'],
    ['${SET:-$2y$05$oZcj}', 'value'],
    ['cost $5', 'cost $5'],
    ['end $', 'end $'],
  ])('%j → %j', (template, expected) => {
    expect(interpolate(template, { lookup })).toBe(expected);
  });

  it('reports unset variables and bare dollars', () => {
    const unset: string[] = [];
    let bare = 0;
    const result = interpolate('${A}$B${C:-x}$1', {
      lookup,
      onUnset: (name) => unset.push(name),
      onBareDollar: () => (bare += 1),
    });
    expect(result).toBe('x$1');
    expect(unset).toEqual(['A', 'B']);
    expect(bare).toBe(1);
  });

  it('evaluates a default only when it is used', () => {
    const unset: string[] = [];
    interpolate('${SET:-$MISSING}', { lookup, onUnset: (name) => unset.push(name) });
    expect(unset).toEqual([]);
  });

  it.each([
    ['${UNSET:?is required}', 'required variable UNSET is missing a value: is required'],
    ['${EMPTY:?must not be empty}', 'required variable EMPTY is missing a value: must not be empty'],
    ['${UNSET?}', 'required variable UNSET is missing a value: '],
    ['${}', 'invalid interpolation format'],
    ['${1X}', 'invalid interpolation format'],
    ['${A B}', 'invalid interpolation format'],
    ['${UNCLOSED', 'invalid interpolation format'],
    ['${A:*x}', 'invalid interpolation format'],
  ])('rejects %j', (template, message) => {
    expect(() => interpolate(template, { lookup })).toThrow(
      expect.objectContaining({
        code: 'COMPOSE_INVALID',
        message: expect.stringContaining(message) as unknown,
      }),
    );
  });
});
