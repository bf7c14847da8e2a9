import { describe, expect, it } from 'vitest';
import type { JsonValue } from '@monk/model';
import { createMemoryFileSource } from './file-source.ts';
import { loadTemplates } from './load-templates.ts';
import type { ResolveHost } from './resolve-context.ts';
import { runAction } from './run-action.ts';
import { createTemplateSource } from './template-source.ts';
import { rejection, testHost } from './test-support.ts';

const yaml = `namespace: t
stack:
  defines: process-group
  runnable-list: [t/db, t/app]
  variables: {region: eu}
db:
  defines: runnable
  containers: {pg: {image: x}}
  services: {sql: {port: 5432, protocol: tcp}}
app:
  defines: runnable
  permitted-secrets: {token: true}
  connections: {database: {runnable: t/db, service: sql}}
  containers: {web: {image: x}, worker: {image: x}}
  variables:
    greeting: hello
    token: <- secret("token")
  actions:
    greet:
      description: says hello
      arguments:
        name: {type: string, default: world}
        times: {type: int, default: 1}
      code: <- \`"\${greeting} \${name} x\${times} from \${region}"\`
    dsn:
      code: connection-hostname("database") ":" connection-port("database") concat-all
    run:
      arguments:
        cmd: {type: string, required: true}
      code: exec("worker", "/bin/sh", "-c", $cmd)
    safe:
      code: exec("worker", "false") error? not
    nested:
      code: act("greet", "name", "nested")
    args-object:
      arguments: {a: {default: x}}
      code: $args get-member("a")
    leak:
      code: $token
    computed-sum:
      arguments: {a: {type: int, default: 40}}
      code: <- \`\${a} 2 add\`
    computed-object:
      arguments: {a: {type: int, default: 1}}
      code: <- \`$args\`
    sum:
      description: sums two numbers (Monk's documented example)
      arguments:
        a: {type: int, description: first number}
        b: {type: int, description: second number}
        add-one: {type: bool, description: add 1 to result, default: false}
      code: $args["a"] $args["b"] add $args["add-one"] to-int add
`;

async function act(options: {
  action: string;
  args?: Record<string, JsonValue>;
  host?: ResolveHost;
  runnable?: string;
}) {
  const { templates } = await loadTemplates({
    entries: ['/t.yaml'],
    files: createMemoryFileSource({ '/t.yaml': yaml }),
  });
  return runAction({
    path: 't/stack',
    runnable: options.runnable ?? 't/app',
    action: options.action,
    ...(options.args === undefined ? {} : { args: options.args }),
    templates: createTemplateSource(templates),
    overrides: { region: 'us' },
    host: options.host ?? testHost,
    volumeRoot: '/vol',
  });
}

describe('runAction', () => {
  it('evaluates the code with the runnable variables, group variables, overrides and typed arguments', async () => {
    expect(await act({ action: 'greet' })).toEqual({ value: 'hello world x1 from us', secret: false });
    expect((await act({ action: 'greet', args: { name: 'monk', times: '3' } })).value).toBe(
      'hello monk x3 from us',
    );
    expect((await act({ action: 'dsn' })).value).toBe('t-db:5432');
    expect((await act({ action: 'args-object' })).value).toBe('x');
    expect((await act({ action: 'nested' })).value).toBe('hello nested x1 from us');
  });

  it("runs Monk's documented action: code without <-, arguments by member access on $args", async () => {
    expect((await act({ action: 'sum', args: { a: '2', b: '3' } })).value).toBe(5);
    expect((await act({ action: 'sum', args: { a: '2', b: '3', 'add-one': 'true' } })).value).toBe(6);
  });

  it('runs the script that "code: <- `…`" computes, keeping the type of what it returns', async () => {
    expect(await act({ action: 'computed-sum' })).toEqual({ value: 42, secret: false });
    expect((await act({ action: 'computed-sum', args: { a: '1' } })).value).toBe(3);
    expect((await act({ action: 'computed-object' })).value).toEqual({ a: 1 });
  });

  it('runs exec through the host, in the named container of the runnable', async () => {
    const calls: Array<{ runnable: string; container: string; command: string[] }> = [];
    const host: ResolveHost = {
      ...testHost,
      arrowHostFor: (runnable) => ({
        exec: async (container, command) => {
          calls.push({ runnable, container, command });
          if (command[0] === 'false') throw new Error('exit code 1');
          return 'done\n';
        },
      }),
    };
    expect((await act({ action: 'run', args: { cmd: 'echo done' }, host })).value).toBe('done\n');
    expect(calls).toEqual([
      { runnable: 't/app', container: 'worker', command: ['/bin/sh', '-c', 'echo done'] },
    ]);
    expect((await act({ action: 'safe', host })).value).toBe(false);
  });

  it('marks results derived from a secret', async () => {
    expect(await act({ action: 'leak' })).toEqual({ value: 'value-of-token', secret: true });
  });

  it('names the actions that exist when one does not', async () => {
    const error = await rejection(act({ action: 'nope' }));
    expect(error.code).toBe('ACTION_NOT_FOUND');
    expect(error.message).toBe(
      't/app has no action "nope"; its actions: greet, dsn, run, safe, nested, args-object, leak, computed-sum, computed-object, sum',
    );
    const none = await rejection(act({ action: 'x', runnable: 't/db' }));
    expect(none.message).toBe('t/db has no action "x"; it defines no actions');
  });

  it('checks arguments: unknown, required and typed', async () => {
    const unknown = await rejection(act({ action: 'greet', args: { whom: 'x' } }));
    expect(unknown.code).toBe('INVALID_REQUEST');
    expect(unknown.message).toContain('it takes: name, times');
    expect((await rejection(act({ action: 'run' }))).code).toBe('VARIABLE_REQUIRED');
    expect((await rejection(act({ action: 'greet', args: { times: 'many' } }))).code).toBe(
      'VARIABLE_INVALID',
    );
  });

  it('refuses a runnable outside the deployment', async () => {
    expect((await rejection(act({ action: 'greet', runnable: 't/other' }))).code).toBe('RUNNABLE_NOT_FOUND');
  });
});
