import { describe, expect, it } from 'vitest';
import { templateActions, templateInfo } from './template-info.ts';

describe('templateInfo', () => {
  it('summarises metadata, variables, services and actions of a merged template', () => {
    const info = templateInfo('shop/db', {
      defines: 'runnable',
      metadata: { name: 'Postgres', description: 'a database', version: '16' },
      variables: {
        defines: 'variables',
        'db-name': { type: 'string', value: 'shop', description: 'database name', env: 'POSTGRES_DB' },
        port: 5432,
      },
      services: { sql: { container: 'db', port: 5432, protocol: 'tcp', description: 'SQL' } },
      actions: {
        sum: {
          description: 'sums two numbers',
          arguments: {
            a: { type: 'int', description: 'first' },
            b: { type: 'int', required: true, default: 2 },
          },
          code: '$args["a"] $args["b"] add',
        },
        ping: { code: 'true' },
      },
    });
    expect(info).toEqual({
      path: 'shop/db',
      defines: 'runnable',
      metadata: { name: 'Postgres', description: 'a database', version: '16' },
      variables: [
        { name: 'db-name', type: 'string', value: 'shop', description: 'database name', env: 'POSTGRES_DB' },
        { name: 'port', value: 5432 },
      ],
      services: [{ name: 'sql', container: 'db', port: 5432, protocol: 'tcp', description: 'SQL' }],
      actions: [
        {
          name: 'sum',
          description: 'sums two numbers',
          arguments: [
            { name: 'a', type: 'int', description: 'first', required: false },
            { name: 'b', type: 'int', default: 2, required: true },
          ],
        },
        { name: 'ping', arguments: [] },
      ],
      members: [],
    });
  });

  it("lists a group's members and is empty-handed for a bare template", () => {
    expect(
      templateInfo('shop/stack', { defines: 'process-group', 'runnable-list': ['shop/db', 'shop/web'] }),
    ).toEqual({
      path: 'shop/stack',
      defines: 'process-group',
      metadata: {},
      variables: [],
      services: [],
      actions: [],
      members: ['shop/db', 'shop/web'],
    });
    expect(templateActions({})).toEqual([]);
  });

  it('finds sections by their defines label, as MonkScript names them', () => {
    expect(templateActions({ ops: { defines: 'actions', go: { description: 'go' } } })).toEqual([
      { name: 'go', description: 'go', arguments: [] },
    ]);
  });
});
