import type { JsonValue } from '@monk/model';
import type { ArrowHost } from './arrow-host.ts';
import type { ArrowSequence } from './parse.ts';
import {
  ErrorValue,
  FunctionValue,
  MarkValue,
  compareNumbers,
  isArray,
  isObject,
  isSpecial,
  toJsonText,
  toJsonValue,
  toText,
  typeName,
  valuesEqual,
} from './values.ts';
import type { Value } from './values.ts';

/** Several values pushed at once (`dup`), or none (`unset`, `callf`). */
export class Spread {
  readonly values: readonly Value[];
  constructor(values: readonly Value[]) {
    this.values = values;
  }
}

export type OperatorResult = Value | Spread;

/** What an operator may use besides its operands. */
export interface OperatorContext {
  readonly name: string;
  readonly host: ArrowHost;
  /** The live stack below the operands (for `callf`). */
  readonly stack: Value[];
  readonly limits: { readonly maxString: number; readonly maxItems: number };
  lookup(name: string): Value;
  setTemporary(name: string, value: Value): void;
  unsetTemporary(name: string): void;
  /** Runs a code block on `stack`. */
  run(body: ArrowSequence, stack: Value[]): Promise<void>;
  /** Invokes an operator by name with call-form arguments (for `call`). */
  invoke(name: string, args: readonly Value[]): Promise<readonly Value[]>;
  /** Throws ARROW_EVAL at the operator's position. */
  fail(message: string): never;
  /** Throws ARROW_EVAL "operator X is not available here" (the host lacks the method). */
  unavailable(): never;
}

/**
 * How an operator takes its operands: `stack` values always come from the stack, then `params` parameters come from
 * the parentheses or, when fewer are given, from the stack (so `$a concat($b)` is `$a $b concat`), then up to
 * `optional` more from the parentheses only. `untilMark` operators take everything down to the mark instead.
 */
export interface OperatorSpec {
  readonly stack?: number;
  readonly params?: number;
  readonly optional?: number | 'rest';
  readonly untilMark?: boolean;
  /** Operands may be error values (`error?`, `default`); for every other operator an error operand is rethrown. */
  readonly acceptsErrors?: boolean;
  /** A runtime operator: its rejections become error values. */
  readonly runtime?: boolean;
  run(operands: readonly Value[], context: OperatorContext): OperatorResult | Promise<OperatorResult>;
}

// ---- operand checks ----

function operand(operands: readonly Value[], index: number): Value {
  return operands[index] ?? null;
}

function expectString(value: Value, context: OperatorContext): string {
  if (typeof value !== 'string') context.fail(`expects a string, got ${typeName(value)}`);
  return value;
}

/** Strings, numbers, BigInts and booleans in their text form; anything else is a type error. */
function expectText(value: Value, context: OperatorContext): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  return context.fail(`expects a string, got ${typeName(value)}`);
}

function expectBool(value: Value, context: OperatorContext): boolean {
  if (typeof value !== 'boolean') context.fail(`expects a bool, got ${typeName(value)}`);
  return value;
}

function expectNumber(value: Value, context: OperatorContext): number | bigint {
  if (typeof value !== 'number' && typeof value !== 'bigint')
    context.fail(`expects a number, got ${typeName(value)}`);
  return value;
}

function expectArray(value: Value, context: OperatorContext): readonly Value[] {
  if (!isArray(value)) context.fail(`expects an array, got ${typeName(value)}`);
  return value;
}

function expectFunction(value: Value, context: OperatorContext): FunctionValue {
  if (!(value instanceof FunctionValue)) context.fail(`expects a function <-{ ... }, got ${typeName(value)}`);
  return value;
}

function boundedText(text: string, context: OperatorContext): string {
  if (text.length > context.limits.maxString) {
    context.fail(`produces a string longer than ${context.limits.maxString} characters`);
  }
  return text;
}

function boundedItems<T>(items: readonly T[], context: OperatorContext): readonly T[] {
  if (items.length > context.limits.maxItems)
    context.fail(`produces more than ${context.limits.maxItems} items`);
  return items;
}

function textOf(value: Value, context: OperatorContext): string {
  if (isSpecial(value)) context.fail(`cannot turn a ${typeName(value)} into a string`);
  return toText(value, context.limits.maxString);
}

function jsonOf(value: Value, context: OperatorContext): JsonValue {
  if (isSpecial(value)) context.fail(`cannot pass a ${typeName(value)} to the host`);
  return toJsonValue(value);
}

function unavailable(context: OperatorContext): never {
  return context.unavailable();
}

// ---- numbers ----

type Arithmetic = 'add' | 'sub' | 'mult' | 'div' | 'mod';

function arithmetic(operation: Arithmetic): OperatorSpec {
  return {
    params: 2,
    run: (operands, context) => {
      const left = expectNumber(operand(operands, 0), context);
      const right = expectNumber(operand(operands, 1), context);
      if (typeof left === 'bigint' || typeof right === 'bigint') {
        const integral = (value: number | bigint): boolean =>
          typeof value === 'bigint' || Number.isInteger(value);
        if (integral(left) && integral(right))
          return bigArithmetic({ operation, left: BigInt(left), right: BigInt(right) }, context);
      }
      const result = floatArithmetic({ operation, left: Number(left), right: Number(right) }, context);
      if (!Number.isFinite(result)) context.fail('result is not a finite number');
      return result;
    },
  };
}

function bigArithmetic(
  input: { operation: Arithmetic; left: bigint; right: bigint },
  context: OperatorContext,
): bigint {
  const { left, right } = input;
  switch (input.operation) {
    case 'add':
      return left + right;
    case 'sub':
      return left - right;
    case 'mult':
      if (bitLength(left) + bitLength(right) > 65_536) context.fail('result is too large');
      return left * right;
    case 'div':
      if (right === 0n) context.fail('division by zero');
      return left / right;
    case 'mod':
      if (right === 0n) context.fail('division by zero');
      return left % right;
  }
}

function bitLength(value: bigint): number {
  return (value < 0n ? -value : value).toString(16).length * 4;
}

function floatArithmetic(
  input: { operation: Arithmetic; left: number; right: number },
  context: OperatorContext,
): number {
  const { left, right } = input;
  switch (input.operation) {
    case 'add':
      return left + right;
    case 'sub':
      return left - right;
    case 'mult':
      return left * right;
    case 'div':
      if (right === 0) context.fail('division by zero');
      return left / right;
    case 'mod':
      if (right === 0) context.fail('division by zero');
      return left % right;
  }
}

function comparison(test: (order: number) => boolean): OperatorSpec {
  return {
    params: 2,
    run: (operands, context) => {
      const left = operand(operands, 0);
      const right = operand(operands, 1);
      if (typeof left === 'string' && typeof right === 'string')
        return test(left < right ? -1 : left > right ? 1 : 0);
      const order = compareNumbers(expectNumber(left, context), expectNumber(right, context));
      return Number.isNaN(order) ? false : test(order);
    },
  };
}

const integerText = /^[+-]?(?:0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|[0-9]+)$/;
const floatText = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

function parseBigInt(text: string): bigint | undefined {
  const trimmed = text.trim();
  if (!integerText.test(trimmed) || trimmed.length > 4096) return undefined;
  const negative = trimmed.startsWith('-');
  const magnitude = BigInt(trimmed.replace(/^[+-]/, '').toLowerCase());
  return negative ? -magnitude : magnitude;
}

function toInt(value: Value, context: OperatorContext): number {
  let result: number;
  if (typeof value === 'number') result = Math.trunc(value);
  else if (typeof value === 'bigint') result = Number(value);
  else if (typeof value === 'boolean') result = value ? 1 : 0;
  else if (typeof value === 'string') {
    const big = parseBigInt(value);
    if (big !== undefined) result = Number(big);
    else if (floatText.test(value.trim())) result = Math.trunc(Number(value.trim()));
    else return context.fail(`cannot convert ${JSON.stringify(value.slice(0, 40))} to an int`);
  } else return context.fail(`cannot convert a ${typeName(value)} to an int`);
  if (!Number.isSafeInteger(result) && !Object.is(result, -0)) context.fail('int out of range');
  return result === 0 ? 0 : result;
}

function toFloat(value: Value, context: OperatorContext): number {
  let result: number;
  if (typeof value === 'number') result = value;
  else if (typeof value === 'bigint') result = Number(value);
  else if (typeof value === 'boolean') result = value ? 1 : 0;
  else if (typeof value === 'string') {
    const big = parseBigInt(value);
    if (big !== undefined) result = Number(big);
    else if (floatText.test(value.trim())) result = Number(value.trim());
    else return context.fail(`cannot convert ${JSON.stringify(value.slice(0, 40))} to a float`);
  } else return context.fail(`cannot convert a ${typeName(value)} to a float`);
  if (!Number.isFinite(result)) context.fail('float out of range');
  return result;
}

function toBigInt(value: Value, context: OperatorContext): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return BigInt(Math.trunc(value));
  if (typeof value === 'boolean') return value ? 1n : 0n;
  if (typeof value === 'string') {
    const big = parseBigInt(value);
    if (big !== undefined) return big;
  }
  return context.fail(
    `cannot convert ${typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : `a ${typeName(value)}`} to a bigint`,
  );
}

function toBool(value: Value, context: OperatorContext): boolean {
  if (typeof value === 'boolean') return value;
  if (value === null) return false;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  if (typeof value === 'bigint') return value !== 0n;
  if (typeof value === 'string') {
    const lowered = value.trim().toLowerCase();
    if (['true', 'yes', 'on', '1'].includes(lowered)) return true;
    if (['false', 'no', 'off', '0', ''].includes(lowered)) return false;
    return context.fail(`cannot convert ${JSON.stringify(value.slice(0, 40))} to a bool`);
  }
  return context.fail(`cannot convert a ${typeName(value)} to a bool`);
}

// ---- collections ----

function getMember(container: Value, key: Value, context: OperatorContext): Value {
  if (container === null) return null;
  if (isArray(container)) {
    const index = typeof key === 'string' && /^[0-9]+$/.test(key) ? Number(key) : key;
    if (typeof index !== 'number' || !Number.isInteger(index))
      context.fail(`expects an int index, got ${typeName(key)}`);
    return container[index < 0 ? container.length + index : index] ?? null;
  }
  if (isObject(container)) {
    const name = expectText(key, context);
    return Object.hasOwn(container, name) ? (container[name] ?? null) : null;
  }
  return context.fail(`expects an object, got ${typeName(container)}`);
}

function contains(haystack: Value, needle: Value, context: OperatorContext): boolean {
  if (typeof haystack === 'string') return haystack.includes(expectText(needle, context));
  if (isArray(haystack)) {
    const budget = { steps: 100_000 };
    return haystack.some((item) => valuesEqual(item, needle, budget));
  }
  if (isObject(haystack)) return Object.hasOwn(haystack, expectText(needle, context));
  return context.fail(`expects a string, an array or an object, got ${typeName(haystack)}`);
}

async function mapItems(operands: readonly Value[], context: OperatorContext): Promise<Value[]> {
  const items = expectArray(operand(operands, 0), context);
  const body = expectFunction(operand(operands, 1), context).body;
  const results: Value[] = [];
  for (const item of items) {
    const stack: Value[] = [item];
    await context.run(body, stack);
    results.push(stack.at(-1) ?? null);
  }
  return results;
}

// ---- runtime ----

function optionsHeaders(value: Value, context: OperatorContext): { headers?: Record<string, string> } {
  if (value === null) return {};
  if (!isObject(value)) return context.fail(`expects an options object, got ${typeName(value)}`);
  const headers = value['headers'];
  if (headers === undefined || headers === null) return {};
  if (!isObject(headers))
    return context.fail(`expects options.headers to be an object, got ${typeName(headers)}`);
  return {
    headers: Object.fromEntries(
      Object.entries(headers).map(([key, item]) => [key, expectText(item, context)]),
    ),
  };
}

function namedArguments(values: readonly Value[], context: OperatorContext): Record<string, JsonValue> {
  if (values.length % 2 !== 0) context.fail('expects argument names and values in pairs');
  const entries: [string, JsonValue][] = [];
  for (let index = 0; index < values.length; index += 2) {
    entries.push([expectText(operand(values, index), context), jsonOf(operand(values, index + 1), context)]);
  }
  return Object.fromEntries(entries);
}

/** A one-string-argument runtime operator backed by host method `method`. */
function byName(call: (host: ArrowHost, name: string) => Promise<JsonValue> | undefined): OperatorSpec {
  return {
    params: 1,
    runtime: true,
    run: (operands, context) => {
      const name = expectText(operand(operands, 0), context);
      return call(context.host, name) ?? unavailable(context);
    },
  };
}

function byRunnableAndContainer(
  call: (host: ArrowHost, runnable: string, container: string) => Promise<JsonValue> | undefined,
): OperatorSpec {
  return {
    params: 2,
    runtime: true,
    run: (operands, context) => {
      const runnable = expectText(operand(operands, 0), context);
      const container = expectText(operand(operands, 1), context);
      return call(context.host, runnable, container) ?? unavailable(context);
    },
  };
}

function noArguments(call: (host: ArrowHost) => Promise<JsonValue> | undefined): OperatorSpec {
  return { runtime: true, run: (_operands, context) => call(context.host) ?? unavailable(context) };
}

// Entity operators accept a path or a connection target object carrying one.
function entityPath(value: Value, context: OperatorContext): string {
  if (isObject(value)) {
    const path = value['path'] ?? value['target'];
    if (typeof path === 'string') return path;
  }
  return expectText(value, context);
}

function byEntity(call: (host: ArrowHost, path: string) => Promise<JsonValue> | undefined): OperatorSpec {
  return {
    params: 1,
    runtime: true,
    run: (operands, context) =>
      call(context.host, entityPath(operand(operands, 0), context)) ?? unavailable(context),
  };
}

// ---- the table ----

const string1 = (transform: (text: string) => string): OperatorSpec => ({
  params: 1,
  run: (operands, context) => transform(expectString(operand(operands, 0), context)),
});

const table: Record<string, OperatorSpec> = {
  // strings
  concat: {
    params: 2,
    run: (operands, context) =>
      boundedText(
        expectText(operand(operands, 0), context) + expectText(operand(operands, 1), context),
        context,
      ),
  },
  'concat-all': {
    untilMark: true,
    optional: 'rest',
    run: (operands, context) => {
      let text = '';
      for (const item of operands) text = boundedText(text + expectText(item, context), context);
      return text;
    },
  },
  trim: string1((text) => text.trim()),
  'to-upper': string1((text) => text.toUpperCase()),
  'to-lower': string1((text) => text.toLowerCase()),
  replace: {
    params: 3,
    run: (operands, context) => {
      const text = expectString(operand(operands, 0), context);
      const search = expectText(operand(operands, 1), context);
      const replacement = expectText(operand(operands, 2), context);
      if (search === '') context.fail('cannot replace an empty string');
      const count = text.split(search).length - 1;
      if (text.length + count * (replacement.length - search.length) > context.limits.maxString) {
        context.fail(`produces a string longer than ${context.limits.maxString} characters`);
      }
      return text.replaceAll(search, () => replacement);
    },
  },
  split: {
    params: 2,
    run: (operands, context) => {
      const text = expectString(operand(operands, 0), context);
      const separator = expectText(operand(operands, 1), context);
      return boundedItems(text.split(separator), context);
    },
  },
  join: {
    params: 2,
    run: (operands, context) => {
      const items = expectArray(operand(operands, 0), context);
      const separator = expectText(operand(operands, 1), context);
      let text = '';
      items.forEach((item, index) => {
        text = boundedText(`${text}${index > 0 ? separator : ''}${expectText(item, context)}`, context);
      });
      return text;
    },
  },
  // nil and errors
  default: {
    params: 2,
    acceptsErrors: true,
    run: (operands) => {
      const value = operand(operands, 0);
      return value === null || value instanceof ErrorValue ? operand(operands, 1) : value;
    },
  },
  'if-error': {
    params: 2,
    acceptsErrors: true,
    run: (operands) => {
      const value = operand(operands, 0);
      return value instanceof ErrorValue ? operand(operands, 1) : value;
    },
  },
  'error?': { params: 1, acceptsErrors: true, run: (operands) => operand(operands, 0) instanceof ErrorValue },
  'nil?': { params: 1, run: (operands) => operand(operands, 0) === null },
  // math
  add: arithmetic('add'),
  sub: arithmetic('sub'),
  mult: arithmetic('mult'),
  mul: arithmetic('mult'),
  div: arithmetic('div'),
  mod: arithmetic('mod'),
  cmp: comparison((order) => order === 0),
  'gt?': comparison((order) => order > 0),
  'gte?': comparison((order) => order >= 0),
  'lt?': comparison((order) => order < 0),
  'lte?': comparison((order) => order <= 0),
  'to-hex': {
    stack: 1,
    optional: 1,
    run: (operands, context) => {
      const value = expectNumber(operand(operands, 0), context);
      const prefix = operands.length > 1 && expectBool(operand(operands, 1), context);
      if (typeof value === 'number' && !Number.isInteger(value)) context.fail('expects an int');
      const big = BigInt(value);
      const magnitude = (big < 0n ? -big : big).toString(16);
      return `${big < 0n ? '-' : ''}${prefix ? '0x' : ''}${magnitude}`;
    },
  },
  // booleans and comparison
  and: {
    params: 2,
    run: (operands, context) =>
      expectBool(operand(operands, 0), context) && expectBool(operand(operands, 1), context),
  },
  or: {
    params: 2,
    run: (operands, context) =>
      expectBool(operand(operands, 0), context) || expectBool(operand(operands, 1), context),
  },
  xor: {
    params: 2,
    run: (operands, context) =>
      expectBool(operand(operands, 0), context) !== expectBool(operand(operands, 1), context),
  },
  not: { params: 1, run: (operands, context) => !expectBool(operand(operands, 0), context) },
  'eq?': { params: 2, run: (operands) => valuesEqual(operand(operands, 0), operand(operands, 1)) },
  'equal?': { params: 2, run: (operands) => valuesEqual(operand(operands, 0), operand(operands, 1)) },
  'not-eq?': { params: 2, run: (operands) => !valuesEqual(operand(operands, 0), operand(operands, 1)) },
  'not-equal?': { params: 2, run: (operands) => !valuesEqual(operand(operands, 0), operand(operands, 1)) },
  'contains?': {
    params: 2,
    run: (operands, context) => contains(operand(operands, 0), operand(operands, 1), context),
  },
  'has?': {
    params: 2,
    run: (operands, context) => contains(operand(operands, 0), operand(operands, 1), context),
  },
  // types
  'to-int': { params: 1, run: (operands, context) => toInt(operand(operands, 0), context) },
  'to-i': { params: 1, run: (operands, context) => toInt(operand(operands, 0), context) },
  'to-float': { params: 1, run: (operands, context) => toFloat(operand(operands, 0), context) },
  'to-f': { params: 1, run: (operands, context) => toFloat(operand(operands, 0), context) },
  'to-bigint': { params: 1, run: (operands, context) => toBigInt(operand(operands, 0), context) },
  'to-bi': { params: 1, run: (operands, context) => toBigInt(operand(operands, 0), context) },
  'to-string': { params: 1, run: (operands, context) => textOf(operand(operands, 0), context) },
  'to-s': { params: 1, run: (operands, context) => textOf(operand(operands, 0), context) },
  'to-bool': { params: 1, run: (operands, context) => toBool(operand(operands, 0), context) },
  // JSON
  'parse-json': {
    params: 1,
    run: (operands, context) => {
      const text = expectString(operand(operands, 0), context);
      try {
        return JSON.parse(text) as JsonValue;
      } catch (error) {
        return context.fail(`cannot parse JSON: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
  },
  'to-json': {
    params: 1,
    run: (operands, context) => {
      const value = operand(operands, 0);
      if (isSpecial(value)) context.fail(`cannot turn a ${typeName(value)} into JSON`);
      return toJsonText(value, context.limits.maxString);
    },
  },
  'get-member': {
    params: 2,
    run: (operands, context) => getMember(operand(operands, 0), operand(operands, 1), context),
  },
  // stack and collections
  dup: {
    params: 1,
    acceptsErrors: true,
    run: (operands) => new Spread([operand(operands, 0), operand(operands, 0)]),
  },
  mark: { run: () => new MarkValue() },
  const: { params: 1, run: (operands) => operand(operands, 0) },
  array: { run: () => [] },
  object: { run: () => ({}) },
  append: {
    params: 2,
    run: (operands, context) =>
      boundedItems([...expectArray(operand(operands, 0), context), operand(operands, 1)], context),
  },
  assoc: {
    params: 3,
    run: (operands, context) => {
      const target = operand(operands, 0);
      if (!isObject(target)) return context.fail(`expects an object, got ${typeName(target)}`);
      const key = expectText(operand(operands, 1), context);
      return Object.fromEntries([
        ...Object.entries(target).filter(([name]) => name !== key),
        [key, operand(operands, 2)],
      ]);
    },
  },
  var: { params: 1, run: (operands, context) => context.lookup(expectText(operand(operands, 0), context)) },
  'set-tmp': {
    stack: 1,
    params: 1,
    run: (operands, context) => {
      context.setTemporary(expectText(operand(operands, 1), context), operand(operands, 0));
      return operand(operands, 0);
    },
  },
  unset: {
    params: 1,
    run: (operands, context) => {
      context.unsetTemporary(expectText(operand(operands, 0), context));
      return new Spread([]);
    },
  },
  set: {
    stack: 1,
    params: 1,
    runtime: true,
    run: (operands, context) => {
      const name = expectText(operand(operands, 1), context);
      const value = operand(operands, 0);
      if (context.host.setVariable === undefined) return unavailable(context);
      return context.host.setVariable(name, jsonOf(value, context)).then(() => value);
    },
  },
  callf: {
    params: 1,
    run: async (operands, context) => {
      await context.run(expectFunction(operand(operands, 0), context).body, context.stack);
      return new Spread([]);
    },
  },
  call: {
    params: 2,
    run: async (operands, context) => {
      const name = expectString(operand(operands, 0), context);
      return new Spread(await context.invoke(name, expectArray(operand(operands, 1), context)));
    },
  },
  map: { params: 2, run: async (operands, context) => mapItems(operands, context) },
  filter: {
    params: 2,
    run: async (operands, context) => {
      const items = expectArray(operand(operands, 0), context);
      const verdicts = await mapItems(operands, context);
      return items.filter((_item, index) => expectBool(verdicts[index] ?? null, context));
    },
  },
  // runtime: connections and network
  'connection-hostname': byName((host, name) => host.connectionHostname?.(name)),
  'connection-port': byName((host, name) => host.connectionPort?.(name)),
  'connection-ip': byName((host, name) => host.connectionIp?.(name)),
  'connection-target': byName((host, name) => host.connectionTarget?.(name)),
  'connection-domain-name': byName((host, name) => host.connectionDomainName?.(name)),
  'connection-public-ip': byName((host, name) => host.connectionPublicIp?.(name)),
  'connection-public-port': byName((host, name) => host.connectionPublicPort?.(name)),
  'get-hostname': byRunnableAndContainer((host, runnable, container) =>
    host.getHostname?.(runnable, container),
  ),
  'get-container-ip': byRunnableAndContainer((host, runnable, container) =>
    host.getContainerIp?.(runnable, container),
  ),
  'container-domain-name': byRunnableAndContainer((host, runnable, container) =>
    host.containerDomainName?.(runnable, container),
  ),
  'container-name': byName((host, name) => host.containerName?.(name)),
  'peer-ip-address': byName((host, name) => host.peerIpAddress?.(name)),
  'get-resolver-ip': noArguments((host) => host.getResolverIp?.()),
  'ip-address-public': noArguments((host) => host.ipAddressPublic?.()),
  'ssl-certificate': noArguments((host) => host.sslCertificate?.()),
  'ssl-private-key': noArguments((host) => host.sslPrivateKey?.()),
  // runtime: secrets, containers, HTTP, entities, actions
  secret: byName((host, name) => host.secret?.(name)),
  exec: {
    params: 2,
    optional: 'rest',
    runtime: true,
    run: (operands, context) => {
      const [container, ...command] = operands.map((item) => expectText(item, context));
      return context.host.exec?.(container ?? '', command) ?? unavailable(context);
    },
  },
  'http-get': {
    params: 1,
    optional: 1,
    runtime: true,
    run: (operands, context) => {
      const url = expectText(operand(operands, 0), context);
      const options = optionsHeaders(operand(operands, 1), context);
      return context.host.httpGet?.(url, options) ?? unavailable(context);
    },
  },
  'http-post': {
    stack: 1,
    params: 1,
    optional: 1,
    runtime: true,
    run: (operands, context) => {
      const body = expectText(operand(operands, 0), context);
      const url = expectText(operand(operands, 1), context);
      const options = optionsHeaders(operand(operands, 2), context);
      return context.host.httpPost?.(url, { body, ...options }) ?? unavailable(context);
    },
  },
  entity: byEntity((host, path) => host.entity?.(path)),
  'entity-state': byEntity((host, path) => host.entityState?.(path)),
  'runnable-peers': byEntity((host, path) => host.runnablePeers?.(path)),
  act: {
    params: 1,
    optional: 'rest',
    runtime: true,
    run: (operands, context) => {
      const action = expectText(operand(operands, 0), context);
      const args = namedArguments(operands.slice(1), context);
      return context.host.act?.(action, args) ?? unavailable(context);
    },
  },
  'wait-for': {
    params: 1,
    optional: 'rest',
    runtime: true,
    run: (operands, context) => {
      // Monk's documented form is wait-for(delay-ms, max-attempts, action, name, value, …); the short form
      // wait-for(action, name, value, …) waits one second between up to 60 attempts.
      const timed = typeof operands[0] === 'number';
      const delay = timed ? toInt(operand(operands, 0), context) : 1000;
      const attempts = timed ? toInt(operand(operands, 1), context) : 60;
      if (delay < 0 || attempts < 1) context.fail('expects a delay >= 0 and at least one attempt');
      const rest = operands.slice(timed ? 2 : 0);
      const action = expectText(operand(rest, 0), context);
      const args = namedArguments(rest.slice(1), context);
      const condition: JsonValue = { action, args, delayMs: delay, attempts };
      return (
        context.host.waitFor?.({ condition, timeoutSeconds: (delay * attempts) / 1000 }) ??
        unavailable(context)
      );
    },
  },
  'random-uuid': {
    runtime: true,
    run: (_operands, context) => context.host.randomUuid?.() ?? unavailable(context),
  },
};

const operators = new Map<string, OperatorSpec>(Object.entries(table));

/** The operator called `name`, or undefined. */
export function findOperator(name: string): OperatorSpec | undefined {
  return operators.get(name);
}

/** Every operator name, sorted (for docs and tests). */
export function operatorNames(): readonly string[] {
  return [...operators.keys()].sort();
}
