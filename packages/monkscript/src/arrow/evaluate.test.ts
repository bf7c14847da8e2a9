import { MonkError } from '@monk/model';
import type { JsonValue, SourceLocation } from '@monk/model';
import { describe, expect, it } from 'vitest';
import { assertKnownOperators, evaluateArrow, interpolate } from './evaluate.ts';
import type { ArrowHost, ArrowScope, EvaluateArrowOptions } from './evaluate.ts';
import { operatorNames } from './operators.ts';
import { parseArrow } from './parse.ts';

const location: SourceLocation = { file: 'app.yaml', line: 3, column: 9, path: 'app/variables/url' };

const variables: Record<string, JsonValue> = {
  a: 'alpha',
  b: 'beta',
  foo: 1,
  bar: 2,
  empty: '',
  none: null,
  list: [1, 2, 3],
  object: { x: 1, nested: { y: 'z' } },
  'monk-volume-path': '/var/lib/monk/volumes',
  person: 'Flipper',
  color: 'chrome',
  thing: 'speedboat',
};

const scope: ArrowScope = { lookup: (name) => variables[name] };

function recordingHost(): ArrowHost & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    connectionHostname: (name) => {
      calls.push(`hostname ${name}`);
      return Promise.resolve(`${name}.monk.internal`);
    },
    connectionPort: () => Promise.resolve(6379),
    connectionTarget: (name) => Promise.resolve(`ns/${name}`),
    connectionDomainName: (name) => Promise.resolve(`${name}.example.com`),
    entityState: (path) => Promise.resolve({ id: `id-of-${path}`, url: 'https://x' }),
    secret: (name) =>
      name === 'missing'
        ? Promise.reject(new MonkError('SECRET_NOT_FOUND', `no secret ${name}`))
        : Promise.resolve(`s3cr3t-${name}`),
    exec: (container, command) => {
      calls.push(`exec ${container} ${JSON.stringify(command)}`);
      return Promise.resolve('/var/run/postgresql:5432 - accepting connections\n');
    },
    httpGet: (url) =>
      url.includes('down') ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve('{"answer": "yes"}'),
    act: (action, args) => Promise.resolve({ action, args }),
    waitFor: (options) => Promise.resolve(options as unknown as JsonValue),
    randomUuid: () => '5b7c2a4e-0000-4000-8000-000000000001',
  };
}

async function evaluate(source: string, options: Partial<EvaluateArrowOptions> = {}): Promise<JsonValue> {
  return evaluateArrow(parseArrow(source, location), { scope, host: recordingHost(), location, ...options });
}

async function failure(source: string, options: Partial<EvaluateArrowOptions> = {}): Promise<MonkError> {
  const error: unknown = await evaluate(source, options).then(
    (value) => new Error(`expected ${source} to fail, got ${JSON.stringify(value)}`),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MonkError);
  return error as MonkError;
}

describe('evaluateArrow: values and pure operators', () => {
  it.each<[string, JsonValue]>([
    // literals and variables
    ['<- nil', null],
    ['<-', null],
    ['<- 1 2', 2],
    ['<- $a', 'alpha'],
    ['<- $undefined', null],
    ['<- [1, "foo", [], $foo]', [1, 'foo', [], 1]],
    ['<- {"a": 1, b: 2, $a: 4}', { a: 1, b: 2, alpha: 4 }],
    ['<- [1 2 add, "x"]', [3, 'x']],
    ['<- 123456789012n', 123456789012],
    ['<- 123456789012345678901n', '123456789012345678901'],
    ['<- `${person} had a ${color} ${thing}`', 'Flipper had a chrome speedboat'],
    ['<- $person " had a " $color " " $thing concat-all', 'Flipper had a chrome speedboat'],
    [
      '<- `${monk-volume-path}/wordpress/db:/var/lib/mysql`',
      '/var/lib/monk/volumes/wordpress/db:/var/lib/mysql',
    ],
    ['<- `n=${foo} l=${list} o=${object} nil=${none}`', 'n=1 l=[1,2,3] o={"x":1,"nested":{"y":"z"}} nil='],
    // strings
    ['<- "foo" "bar" concat', 'foobar'],
    ['<- "a" concat("b")', 'ab'],
    ['<- concat("a", "b")', 'ab'],
    ['<- "port " 80 concat', 'port 80'],
    ['<- "a" "b" "c" "d" concat-all', 'abcd'],
    ['<- "x" mark "a" 1 concat-all concat', 'xa1'],
    ['<- concat-all("a", "b")', 'ab'],
    ['<- " foo " trim', 'foo'],
    ['<- "Foo" to-upper', 'FOO'],
    ['<- "Foo" to-lower', 'foo'],
    ['<- "a-b-c" replace("-", "+")', 'a+b+c'],
    ['<- "a,b,c" split(",")', ['a', 'b', 'c']],
    ['<- ["a", 1, true] join("/")', 'a/1/true'],
    // nil and errors
    ['<- $undefined default("wpdb")', 'wpdb'],
    ['<- $a default("wpdb")', 'alpha'],
    ['<- $empty default("x")', ''],
    ['<- $none default(5)', 5],
    ['<- 1 if-error(2)', 1],
    ['<- 1 error?', false],
    ['<- nil nil?', true],
    // math
    ['<- 1 2 add', 3],
    ['<- $foo $bar add', 3],
    ['<- $foo add($bar)', 3],
    ['<- $foo 2 add div(2) to-json', '1.5'],
    ['<- 1 2 sub', -1],
    ['<- 2 2 mult', 4],
    ['<- 3 4 mul', 12],
    ['<- 1 2 div', 0.5],
    ['<- 7 3 mod', 1],
    ['<- 0.1 0.2 add', 0.1 + 0.2],
    ['<- 10n 3n div', 3],
    ['<- 10n 3 add', 13],
    ['<- 10n 0.5 add', 10.5],
    ['<- 7 2 cmp', false],
    ['<- 2 2.0 cmp', true],
    ['<- 2 1 gt?', true],
    ['<- 1 1 gte?', true],
    ['<- 1 2 lt?', true],
    ['<- 2 2 lte?', true],
    ['<- "a" "b" lt?', true],
    ['<- 16 to-hex', '10'],
    ['<- 16 to-hex(true)', '0x10'],
    ['<- -255 to-hex(true)', '-0xff'],
    // booleans and comparison
    ['<- true false and', false],
    ['<- true false or', true],
    ['<- true true xor', false],
    ['<- true not', false],
    ['<- 1 1 eq?', true],
    ['<- [1, {"a": 2}] [1, {"a": 2}] equal?', true],
    ['<- 1 2 not-eq?', true],
    ['<- "a" "a" not-equal?', false],
    ['<- 1 1n eq?', true],
    ['<- "accepting connections" contains?("accept")', true],
    ['<- "output" "nothing" contains?', false],
    ['<- $list 2 contains?', true],
    ['<- $object has?("x")', true],
    // types
    ['<- "99" to-int', 99],
    ['<- "0x10" to-i', 16],
    ['<- 3.9 to-int', 3],
    ['<- "2.5" to-float', 2.5],
    ['<- 88 to-f', 88],
    ['<- 88 to-string', '88'],
    ['<- true to-s', 'true'],
    ['<- nil to-s', ''],
    ['<- 88 to-bi', 88],
    ['<- "123456789012345678901" to-bigint', '123456789012345678901'],
    ['<- "yes" to-bool', true],
    ['<- 0 to-bool', false],
    // JSON
    ['<- \'[{"foo": 99}, 6]\' parse-json', [{ foo: 99 }, 6]],
    ['<- [{"foo": 99}, 6] to-json', '[{"foo":99},6]'],
    ['<- {"foo": 6} get-member("foo")', 6],
    ['<- {"foo": 6} get-member("bar")', null],
    ['<- $object get-member("nested") get-member("y")', 'z'],
    ['<- $list get-member(1)', 2],
    ['<- nil get-member("x")', null],
    ['<- \'{"__proto__": 1}\' parse-json get-member("__proto__")', 1],
    // stack, collections, functions and temporaries
    ['<- 1 dup add', 2],
    ['<- [] 8 append 9 append', [8, 9]],
    ['<- array', []],
    ['<- object "foo" 6 assoc', { foo: 6 }],
    ['<- {"__proto__": 1} "k" 2 assoc', { ['__proto__']: 1, k: 2 }],
    ['<- const(5)', 5],
    ['<- var("a")', 'alpha'],
    ['<- [1,2,3] map(<-{ 1 add })', [2, 3, 4]],
    ['<- [1,2,3] filter(<-{ 2 gt? })', [3]],
    ['<- 1 <-{ 1 add } callf', 2],
    ['<- "add" [1, 2] call', 3],
  ])('%s', async (source, expected) => {
    expect(await evaluate(source)).toEqual(expected);
  });

  it('keeps temporaries for the rest of the script only', async () => {
    expect(await evaluate('<- 5 set-tmp("n") $n add')).toBe(10);
    expect(await evaluate('<- 5 set-tmp("a") unset("a") $a')).toBe('alpha');
    expect(await evaluate('<- $n')).toBeNull();
  });

  it('implements every documented Monk operator', () => {
    const documented = [
      'concat',
      'concat-all',
      'trim',
      'set',
      'set-tmp',
      'unset',
      'act',
      'wait-for',
      'http-get',
      'http-post',
      'add',
      'cmp',
      'div',
      'mult',
      'sub',
      'to-hex',
      'container-domain-name',
      'container-name',
      'exec',
      'random-uuid',
      'get-hostname',
      'get-container-ip',
      'ip-address-public',
      'peer-ip-address',
      'append',
      'array',
      'assoc',
      'call',
      'callf',
      'const',
      'dup',
      'get-member',
      'mark',
      'object',
      'var',
      'and',
      'contains?',
      'has?',
      'eq?',
      'equal?',
      'not',
      'not-equal?',
      'not-eq?',
      'or',
      'xor',
      'parse-json',
      'to-json',
      'to-bi',
      'to-bigint',
      'to-float',
      'to-f',
      'to-int',
      'to-i',
      'to-string',
      'to-s',
      'entity',
      'entity-state',
      'map',
      'filter',
    ];
    expect(documented.filter((name) => !operatorNames().includes(name))).toEqual([]);
  });
});

describe('evaluateArrow: runtime operators go through the host', () => {
  it('resolves connections, secrets, entities and stable UUIDs', async () => {
    expect(await evaluate('<- connection-hostname("db")')).toBe('db.monk.internal');
    expect(await evaluate('<- connection-hostname("m") ":" connection-port("m") concat-all')).toBe(
      'm.monk.internal:6379',
    );
    expect(await evaluate('<- "https://" connection-domain-name("app") concat-all')).toBe(
      'https://app.example.com',
    );
    expect(await evaluate('<- connection-target("auth0") entity-state get-member("id")')).toBe(
      'id-of-ns/auth0',
    );
    expect(await evaluate('<- secret("db")')).toBe('s3cr3t-db');
    expect(await evaluate('<- random-uuid')).toBe(await evaluate('<- random-uuid'));
    expect(await evaluate('<- $nothing default(random-uuid)')).toBe('5b7c2a4e-0000-4000-8000-000000000001');
  });

  it('passes exec its container and command words', async () => {
    const host = recordingHost();
    const ready = await evaluate(
      '<- exec("postgres", "/bin/bash", "-c", "pg_isready -U postgres") "accepting connections" contains?',
      { host },
    );
    expect(ready).toBe(true);
    expect(host.calls).toEqual(['exec postgres ["/bin/bash","-c","pg_isready -U postgres"]']);
    expect(
      await evaluate('<- exec("redis", "/bin/sh", "-c", "echo ready") contains?("ready")', { host }),
    ).toBe(false);
  });

  it('turns host failures into values that error?, if-error and default handle', async () => {
    expect(await evaluate('<- http-get("http://down") error? not')).toBe(false);
    expect(await evaluate('<- http-get("http://up") error? not')).toBe(true);
    expect(await evaluate('<- http-get("http://down") if-error("fallback")')).toBe('fallback');
    expect(await evaluate('<- secret("missing") default("dev")')).toBe('dev');
    expect(await evaluate('<- http-get("http://up") parse-json get-member("answer")')).toBe('yes');
  });

  it('fails with the host error code and position when a failure is used', async () => {
    const error = await failure('<- "pw:" secret("missing") concat');
    expect(error.code).toBe('SECRET_NOT_FOUND');
    expect(error.details).toMatchObject({ operator: 'secret', column: 10 });
    expect(error.cause).toBeInstanceOf(MonkError);
    expect(error.location).toEqual(location);
    const network = await failure('<- http-get("http://down")');
    expect(network.code).toBe('ARROW_EVAL');
    expect(network.message).toMatch(/http-get failed: ECONNREFUSED/);
  });

  it('maps act and wait-for arguments to the host', async () => {
    expect(await evaluate('<- act("ns/app/backup", "target", "s3", "keep", 3)')).toEqual({
      action: 'ns/app/backup',
      args: { target: 's3', keep: 3 },
    });
    expect(await evaluate('<- wait-for(500, 4, "ns/app/ready", "x", "1")')).toEqual({
      condition: { action: 'ns/app/ready', args: { x: '1' }, delayMs: 500, attempts: 4 },
      timeoutSeconds: 2,
    });
  });

  it('says when the host does not provide an operator', async () => {
    const error = await failure('<- "x" get-resolver-ip concat', { host: {} });
    expect(error.code).toBe('ARROW_EVAL');
    expect(error.message).toMatch(/^operator get-resolver-ip is not available here/);
    expect(error.details).toMatchObject({ operator: 'get-resolver-ip', column: 8 });
    await expect(evaluate('<- random-uuid', { host: {} })).rejects.toMatchObject({ code: 'ARROW_EVAL' });
    await expect(evaluate('<- 1 set("x")', { host: {} })).rejects.toMatchObject({ code: 'ARROW_EVAL' });
  });
});

describe('evaluateArrow: errors', () => {
  it.each<[string, MonkError['code'], RegExp, number]>([
    ['<- $a frobnicate', 'ARROW_UNKNOWN_OPERATOR', /unknown operator frobnicate/, 7],
    ['<- f(1)', 'ARROW_UNKNOWN_OPERATOR', /unknown operator f/, 4],
    ['<- call(["y"])', 'ARROW_EVAL', /call: needs 2 values/, 4],
    ['<- "x" call(["y"])', 'ARROW_UNKNOWN_OPERATOR', /unknown operator x/, 8],
    ['<- $a concat', 'ARROW_EVAL', /concat: needs 2 values but the stack has 1/, 7],
    ['<- concat', 'ARROW_EVAL', /needs 2 values but the stack has 0/, 4],
    ['<- default("x")', 'ARROW_EVAL', /needs 2 values but the stack has 0 and 1 argument was given/, 4],
    ['<- 1 "a" add', 'ARROW_EVAL', /add: expects a number, got string/, 10],
    ['<- "a" nil concat', 'ARROW_EVAL', /concat: expects a string, got nil/, 12],
    ['<- 1 0 div', 'ARROW_EVAL', /division by zero/, 8],
    ['<- 1n 0n mod', 'ARROW_EVAL', /division by zero/, 10],
    ['<- "x" not', 'ARROW_EVAL', /not: expects a bool, got string/, 8],
    ['<- "abc" to-int', 'ARROW_EVAL', /cannot convert "abc" to an int/, 10],
    ['<- "{" parse-json', 'ARROW_EVAL', /cannot parse JSON/, 8],
    ['<- trim("a", "b")', 'ARROW_EVAL', /takes at most 1 argument, got 2/, 4],
    ['<- 1 get-member("x")', 'ARROW_EVAL', /expects an object, got int/, 6],
    [
      '<- concat(1 2, "x")',
      'ARROW_EVAL',
      /argument 1 of concat must leave exactly one value, it leaves 2/,
      11,
    ],
    ['<- mark', 'ARROW_EVAL', /the result is a mark/, 1],
    ['<- <-{ 1 }', 'ARROW_EVAL', /the result is a function/, 1],
    ['<- mark 1 add', 'ARROW_EVAL', /found a mark/, 11],
    ['<- `${undefined-var}`', 'ARROW_EVAL', /variable undefined-var is not defined/, 7],
    ['<- "x" 1.5 to-hex', 'ARROW_EVAL', /expects an int/, 12],
    ['<- act("a", "odd")', 'ARROW_EVAL', /in pairs/, 4],
    ['<- 1 map(<-{ 1 })', 'ARROW_EVAL', /expects an array/, 6],
  ])('%s -> %s', async (...row) => {
    const [source, code, message, column] = row;
    const error = await failure(source);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.details).toMatchObject({ column, expression: source });
    expect(error.location).toEqual(location);
    expect(error.message).toContain(JSON.stringify(source));
  });

  it('bounds runaway growth, recursion and step counts', async () => {
    const doubling = `<- "ab" ${'dup concat '.repeat(40)}`;
    expect((await failure(doubling)).message).toMatch(/longer than/);
    const nested = `<- [] ${'dup append '.repeat(40)} to-json`;
    expect((await failure(nested)).message).toMatch(/larger than/);
    const recursion = '<- <-{ dup callf } dup callf';
    expect((await failure(recursion)).message).toMatch(/nested deeper than/);
    const many = `<- ${'1 '.repeat(200)}`;
    expect((await failure(many, { limits: { maxStack: 100 } })).message).toMatch(/stack grew beyond 100/);
    expect((await failure(many, { limits: { maxSteps: 50 } })).message).toMatch(/exceeded 50 steps/);
    const loop = `<- ${'[1,2,3,4,5,6,7,8,9,10] map(<-{ [1,2,3,4,5,6,7,8,9,10] map(<-{ 1 add }) }) '.repeat(3)}`;
    expect((await failure(loop, { limits: { maxSteps: 200 } })).message).toMatch(/exceeded 200 steps/);
    const calls = `<- ${'connection-port("x") '.repeat(10)}`;
    expect((await failure(calls, { limits: { maxHostCalls: 5 } })).message).toMatch(
      /more than 5 runtime calls/,
    );
  });
});

describe('interpolate', () => {
  it('replaces ${name} with variables, without escapes', () => {
    expect(interpolate('${monk-volume-path}/db:/data', scope)).toBe('/var/lib/monk/volumes/db:/data');
    expect(interpolate('$HOME \\n ${foo}${none}', scope)).toBe('$HOME \\n 1');
    expect(interpolate('no placeholders', scope)).toBe('no placeholders');
  });

  it('fails on undefined variables and malformed placeholders', () => {
    expect(() => interpolate('${missing}', scope)).toThrow(expect.objectContaining({ code: 'ARROW_EVAL' }));
    expect(() => interpolate('${a', scope)).toThrow(expect.objectContaining({ code: 'ARROW_SYNTAX' }));
  });
});

describe('assertKnownOperators', () => {
  it('accepts known operators and names the first unknown one, however deep', () => {
    expect(() =>
      assertKnownOperators(parseArrow('<- $a default("b") [1 dup] map(<-{ 1 add })')),
    ).not.toThrow();
    const program = parseArrow('<- [1, {"k": f(<-{ 1 frobnicate })}]');
    const error = ((): unknown => {
      try {
        assertKnownOperators(program, location);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(MonkError);
    expect(error).toMatchObject({
      code: 'ARROW_UNKNOWN_OPERATOR',
      location,
      details: { operator: 'f', column: 14 },
    });
    expect(() => assertKnownOperators(parseArrow('<- [<-{ 1 frobnicate }]'))).toThrow(
      /unknown operator frobnicate/,
    );
  });
});

describe('evaluateArrow: member access', () => {
  const members = (name: string): JsonValue | undefined =>
    ({
      args: { a: 2, b: 3, 'add-one': true, none: null },
      list: [10, [20, 21], { k: 'v' }],
      object: { x: 1, nested: { y: 'z' }, '0': 'zero' },
      text: 'hello',
      empty: {},
    })[name];
  const withMembers: ArrowScope = { lookup: members };

  it.each<[string, JsonValue]>([
    // Monk's own action example
    ['$args["a"] $args["b"] add', 5],
    ['$args["a"] $args["b"] add $args["add-one"] to-int add', 6],
    ["$args['a']", 2],
    ['$args[ "b" ]', 3],
    ['$args["none"]', null],
    ['$list[0]', 10],
    ['$list[1][1]', 21],
    ['$list[2]["k"]', 'v'],
    ['$object["nested"]["y"]', 'z'],
    ['$object[0]', 'zero'],
    ['[$list[0], $args["a"]]', [10, 2]],
    ['{"sum": $args["a"]}', { sum: 2 }],
    ['$list[1]', [20, 21]],
  ])('%s is %j', async (source, expected) => {
    await expect(evaluate(source, { scope: withMembers })).resolves.toEqual(expected);
  });

  it.each<[string, RegExp]>([
    ['$args["c"]', /\$args\["c"\]: \$args has no key "c" \(its keys: a, b, add-one, none\)/],
    ['$empty["a"]', /\$empty has no key "a" \(it is empty\)/],
    ['$list[3]', /\$list\[3\]: index 3 is out of range \(\$list has 3 items\)/],
    ['$list[1][2]', /index 2 is out of range \(\$list\[1\] has 2 items\)/],
    ['$list["a"]', /\$list is an array; index it with a number/],
    ['$text["a"]', /\$text\["a"\]: \$text is a string, not an object or an array/],
    ['$missing[0]', /\$missing is nil, not an object or an array/],
    ['$args["a"]["b"]', /\$args\["a"\] is a int, not an object or an array/],
  ])('%s fails: %s', async (source, message) => {
    const error = await failure(source, { scope: withMembers });
    expect(error.code).toBe('ARROW_EVAL');
    expect(error.message).toMatch(message);
  });

  it.each<[string, RegExp]>([
    ['$args[a]', /a member access takes a quoted key or a non-negative integer index/],
    ['$list[-1]', /a member access takes a quoted key or a non-negative integer index/],
    ['$list[$i]', /a member access takes a quoted key/],
    ['$args["a"', /missing \] of member access/],
    ['$args["a" "b"]', /missing \] of member access/],
  ])('%s is a syntax error: %s', (source, message) => {
    expect(() => parseArrow(source)).toThrow(message);
    expect(() => parseArrow(source)).toThrow(expect.objectContaining({ code: 'ARROW_SYNTAX' }));
  });
});
