import { MonkError } from '@monk/model';
import type { JsonValue } from '@monk/model';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateArrow } from './evaluate.ts';
import type { ArrowHost, ArrowScope } from './evaluate.ts';
import { operatorNames } from './operators.ts';
import { parseArrow } from './parse.ts';

// Deterministic by default; set ARROW_FUZZ_SEED to explore. fast-check prints the seed and path of any failure.
const seed = Number(process.env['ARROW_FUZZ_SEED'] ?? 20_240_611);
const runs = { seed, numRuns: Number(process.env['ARROW_FUZZ_RUNS'] ?? 300), timeout: 5_000 };

const scope: ArrowScope = {
  lookup: (name) => ({ a: 'alpha', n: 2, list: [1, 'x', null], obj: { k: [true] }, none: null })[name],
};

// Every runtime operator answers at once; some fail, as real hosts do.
const host: ArrowHost = {
  connectionHostname: (name) => Promise.resolve(`${name}.host`),
  connectionPort: () => Promise.resolve(80),
  connectionTarget: (name) => Promise.resolve({ path: name }),
  entityState: () => Promise.resolve({ id: 1 }),
  secret: (name) =>
    name.length % 2 === 0
      ? Promise.resolve('pw')
      : Promise.reject(new MonkError('SECRET_NOT_FOUND', `no secret ${name}`)),
  exec: () => Promise.resolve('ready'),
  httpGet: () => Promise.reject(new Error('connection refused')),
  act: () => Promise.resolve(null),
  randomUuid: () => '00000000-0000-4000-8000-000000000000',
};

const acceptedCodes = new Set(['ARROW_SYNTAX', 'ARROW_EVAL', 'ARROW_UNKNOWN_OPERATOR', 'SECRET_NOT_FOUND']);

/** Parses and evaluates; returns the outcome, and fails the property on anything but a value or a MonkError. */
async function outcome(source: string): Promise<JsonValue | MonkError> {
  try {
    return await evaluateArrow(parseArrow(source), { scope, host });
  } catch (error) {
    if (!(error instanceof MonkError) || !acceptedCodes.has(error.code)) {
      throw new Error(`unexpected failure for ${JSON.stringify(source)}: ${String(error)}`, { cause: error });
    }
    if (typeof error.details?.['column'] !== 'number') {
      throw new Error(`no column for ${JSON.stringify(source)}`, { cause: error });
    }
    return error;
  }
}

const vocabulary = [
  ...operatorNames(),
  'nil',
  'true',
  'false',
  '0',
  '-1',
  '0x1f',
  '0b101',
  '0777',
  '12n',
  '1.5e3',
  '"s"',
  "'q'",
  '`t ${a}`',
  '`${n}`',
  '$a',
  '$n',
  '$list',
  '$obj',
  '$none',
  '$missing',
  '[',
  ']',
  '{',
  '}',
  '(',
  ')',
  ',',
  ':',
  '<-{',
  '"',
  '`',
  '$',
  'secret("ab")',
  'secret("abc")',
  'http-get("u")',
  'connection-hostname("db")',
  'default("d")',
  'get-member("k")',
  '[1, 2]',
  '{"k": 1}',
  '<-{ 1 add }',
  'map(<-{ dup })',
  'mark',
  'dup',
  'callf',
];

const tokenExpression = fc
  .array(fc.constantFrom(...vocabulary), { maxLength: 24 })
  .chain((tokens) =>
    fc
      .constantFrom(' ', '', '\n')
      .map((separator) => `<- ${tokens.join(separator === '' ? ' ' : separator)}`),
  );

const seeds = [
  '<- $db_name default("wpdb")',
  '<- connection-hostname("mongo-1") ":" connection-port("mongo-1") concat-all',
  '<- `${monk-volume-path}/wordpress/db:/var/lib/mysql`',
  '<- exec("postgres", "/bin/bash", "-c", "pg_isready -U postgres") "accepting connections" contains?',
  '<- connection-target("auth0") entity-state get-member("client-id")',
  '<- [1, {"a": [2, 3]}, $list] to-json parse-json',
  '<- $n 2 add div(2) to-hex(true)',
  '<- http-get("x") error? not',
];

const mutated = fc
  .tuple(
    fc.constantFrom(...seeds),
    fc.array(
      fc.record({
        at: fc.nat(),
        kind: fc.constantFrom('insert', 'delete', 'replace'),
        text: fc.constantFrom(
          '(',
          ')',
          '[',
          ']',
          '{',
          '}',
          '"',
          "'",
          '`',
          '$',
          ',',
          ':',
          '\\',
          ' ',
          '${',
          '<-{',
          'x',
          '9',
        ),
      }),
      { minLength: 1, maxLength: 4 },
    ),
  )
  .map(([source, edits]) =>
    edits.reduce((text, edit) => {
      const at = text.length === 0 ? 0 : edit.at % text.length;
      if (edit.kind === 'insert') return text.slice(0, at) + edit.text + text.slice(at);
      if (edit.kind === 'delete') return text.slice(0, at) + text.slice(at + 1);
      return text.slice(0, at) + edit.text + text.slice(at + 1);
    }, source),
  );

const isList = (value: JsonValue): value is readonly JsonValue[] => Array.isArray(value);

/** Prints a JSON value as an Arrow literal. */
function literal(value: JsonValue): string {
  if (value === null) return 'nil';
  if (typeof value === 'number') {
    // Integers beyond 2^53 written as digits would parse as BigInt; keep them floats.
    const text = JSON.stringify(value);
    return /^-?[0-9]+$/.test(text) && !Number.isSafeInteger(value) ? `${text}.0` : text;
  }
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (isList(value)) return `[${value.map((item) => literal(item)).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([key, item]) => `${JSON.stringify(key)}: ${literal(item)}`)
    .join(', ')}}`;
}

// fast-check's JSON type differs from monk's; a JSON round trip also folds -0 into 0.
const jsonValue = fc
  .jsonValue({ maxDepth: 4 })
  .map((value) => JSON.parse(JSON.stringify(value)) as JsonValue);

const normalise = (value: JsonValue): unknown => JSON.parse(JSON.stringify(value));

describe('Arrow fuzzing (fast-check)', () => {
  it('arbitrary text gives a value or an ARROW_* error, never a crash or a hang', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 80 }), async (text) => {
        await outcome(text);
        await outcome(`<- ${text}`);
      }),
      runs,
    );
  });

  it('random token sequences give a value or an ARROW_* error', async () => {
    await fc.assert(
      fc.asyncProperty(tokenExpression, async (source) => void (await outcome(source))),
      runs,
    );
  });

  it('mutated kit expressions give a value or an ARROW_* error', async () => {
    await fc.assert(
      fc.asyncProperty(mutated, async (source) => void (await outcome(source))),
      runs,
    );
  });

  it('every JSON value printed as a literal evaluates back to itself', async () => {
    await fc.assert(
      fc.asyncProperty(jsonValue, async (value) => {
        const result = await evaluateArrow(parseArrow(`<- ${literal(value)}`), { scope, host });
        expect(normalise(result)).toEqual(normalise(value));
        const viaJson = await evaluateArrow(parseArrow('<- $v to-json parse-json'), {
          scope: { lookup: (name) => (name === 'v' ? value : undefined) },
          host,
        });
        expect(normalise(viaJson)).toEqual(normalise(value));
      }),
      runs,
    );
  });
});
