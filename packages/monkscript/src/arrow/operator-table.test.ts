import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MonkError } from '@monk/model';
import type { JsonValue } from '@monk/model';
import { describe, expect, it } from 'vitest';
import type { ArrowHost } from './evaluate.ts';
import { assertKnownOperators, evaluateArrow } from './evaluate.ts';
import { parseArrow } from './parse.ts';

// The table of Monk's operators in the docs is the test: each row's example must give its result.
const table = fileURLToPath(new URL('../../../../docs/arrow-operators.md', import.meta.url));

interface Row {
  readonly operator: string;
  readonly status: string;
  readonly example: string;
  readonly result: string;
}

function rows(): Row[] {
  const code = (cell: string): string => {
    const match = /^(`+) ?(.*?) ?\1$/.exec(cell.trim());
    if (match === null) throw new Error(`not a code cell: ${cell}`);
    return match[2] ?? '';
  };
  return readFileSync(table, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const cells = line.split(/ \| /).map((cell) => cell.replace(/^\| |\s*\|$/g, '').trim());
      const [operator = '', , status = '', example = '', result = ''] = cells;
      return { operator, status, example: code(example), result: code(result) };
    });
}

const variables: Record<string, JsonValue> = {
  a: 'alpha',
  b: 'beta',
  list: [1, 2, 3],
  args: { a: 2, b: 3 },
};

// A fake runtime that answers predictably, so a row shows what the operator passes to the host.
const host: ArrowHost = {
  exec: (container, command) => Promise.resolve(`${container}: ${command.join(' ')}`),
  httpGet: (url) => Promise.resolve(`GET ${url}`),
  httpPost: (url, request) => Promise.resolve(`POST ${url} ${request.body}`),
  act: (action, args) => Promise.resolve({ action, args }),
  waitFor: (options) => Promise.resolve(options.condition),
  containerName: (container) => Promise.resolve(`shop-db-${container}`),
  containerDomainName: (runnable, container) =>
    Promise.resolve(`${container}.${runnable.replace('/', '-')}.monk`),
  getHostname: (runnable) => Promise.resolve(runnable.replace('/', '-')),
  getContainerIp: () => Promise.resolve('10.0.0.5'),
  ipAddressPublic: () => Promise.resolve('203.0.113.7'),
  randomUuid: () => '5b7c2a4e-0000-4000-8000-000000000001',
  setVariable: () => Promise.resolve(),
};

describe("Monk's Arrow operators (docs/arrow-operators.md)", () => {
  const all = rows();

  it("has a row for every operator of Monk's cheatsheet", () => {
    expect(all.length).toBeGreaterThanOrEqual(56);
    expect(all.filter((row) => row.status === 'not supported').map((row) => row.operator)).toEqual([
      '`rpc-call`',
    ]);
  });

  it.each(all)('$operator: $example gives $result', async ({ example, result, status }) => {
    const evaluate = async (): Promise<JsonValue> =>
      evaluateArrow(parseArrow(example), { scope: { lookup: (name) => variables[name] }, host });
    if (result.startsWith('error: ')) {
      const error: unknown = await evaluate().then(
        (value) => new Error(`expected an error, got ${JSON.stringify(value)}`),
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(MonkError);
      expect((error as MonkError).code).toBe(result.slice('error: '.length));
      if (status === 'not supported') {
        expect(() => assertKnownOperators(parseArrow(example))).toThrow(/unknown operator/);
      }
      return;
    }
    expect(status).toBe('supported');
    expect(await evaluate()).toEqual(JSON.parse(result));
  });
});
