import type { JsonValue } from '@monk/model';
import type { ArrowSequence } from './parse.ts';

/** A failed runtime operation kept on the stack so that `error?`, `if-error` and `default` can inspect it. */
export class ErrorValue {
  readonly error: Error;
  /** The operator that failed and its offset in the expression. */
  readonly operator: string;
  readonly offset: number;
  constructor(error: Error, site: { readonly operator: string; readonly offset: number }) {
    this.error = error;
    this.operator = site.operator;
    this.offset = site.offset;
  }
}

/** The marker `mark` pushes; `concat-all` collects down to it. */
export class MarkValue {
  readonly mark = true;
}

/** A first-class code block, `<-{ ... }`. */
export class FunctionValue {
  readonly body: ArrowSequence;
  constructor(body: ArrowSequence) {
    this.body = body;
  }
}

/** Everything that can live on the Arrow stack: JSON plus BigInt, errors, marks and functions. */
export type Value =
  | null
  | boolean
  | number
  | string
  | bigint
  | readonly Value[]
  | { readonly [key: string]: Value }
  | ErrorValue
  | MarkValue
  | FunctionValue;

export type ValueObject = { readonly [key: string]: Value };

export function isSpecial(value: Value): value is ErrorValue | MarkValue | FunctionValue {
  return value instanceof ErrorValue || value instanceof MarkValue || value instanceof FunctionValue;
}

export function isObject(value: Value): value is ValueObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isSpecial(value);
}

export function isArray(value: Value): value is readonly Value[] {
  return Array.isArray(value);
}

/** The type name used in error messages. */
export function typeName(value: Value): string {
  if (value === null) return 'nil';
  if (value instanceof ErrorValue) return 'error';
  if (value instanceof MarkValue) return 'mark';
  if (value instanceof FunctionValue) return 'function';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'bigint') return 'bigint';
  return 'object';
}

/** Thrown by the helpers below when a value is too large; the evaluator turns it into ARROW_EVAL. */
export class ValueTooLargeError extends Error {}

/** The JSON text of a value, bounded by `limit` characters so shared sub-arrays cannot blow up exponentially. */
export function toJsonText(value: Value, limit: number): string {
  const parts: string[] = [];
  let length = 0;
  const emit = (text: string): void => {
    length += text.length;
    if (length > limit) throw new ValueTooLargeError(`value is larger than ${limit} characters as JSON`);
    parts.push(text);
  };
  const visit = (item: Value): void => {
    if (item === null) emit('null');
    else if (typeof item === 'bigint') emit(item.toString());
    else if (typeof item === 'number') emit(Number.isFinite(item) ? JSON.stringify(item) : 'null');
    else if (typeof item === 'string' || typeof item === 'boolean') emit(JSON.stringify(item));
    else if (isSpecial(item)) throw new TypeError(`a ${typeName(item)} has no JSON form`);
    else if (isArray(item)) {
      emit('[');
      item.forEach((element, index) => {
        if (index > 0) emit(',');
        visit(element);
      });
      emit(']');
    } else {
      emit('{');
      Object.entries(item).forEach(([key, element], index) => {
        if (index > 0) emit(',');
        emit(`${JSON.stringify(key)}:`);
        visit(element);
      });
      emit('}');
    }
  };
  visit(value);
  return parts.join('');
}

/** `to-s`: strings as they are, nil as "", scalars in their literal form, arrays and objects as JSON. */
export function toText(value: Value, limit: number): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return toJsonText(value, limit);
}

/** Deep equality; numbers and BigInts compare by value. */
export function valuesEqual(left: Value, right: Value, budget = { steps: 100_000 }): boolean {
  budget.steps -= 1;
  if (budget.steps < 0) throw new ValueTooLargeError('values are too large to compare');
  if (
    (typeof left === 'number' || typeof left === 'bigint') &&
    (typeof right === 'number' || typeof right === 'bigint')
  ) {
    return compareNumbers(left, right) === 0;
  }
  if (left === right) return true;
  if (isArray(left) && isArray(right)) {
    return (
      left.length === right.length &&
      left.every((item, index) => valuesEqual(item, right[index] ?? null, budget))
    );
  }
  if (isObject(left) && isObject(right)) {
    const keys = Object.keys(left);
    return (
      keys.length === Object.keys(right).length &&
      keys.every(
        (key) => Object.hasOwn(right, key) && valuesEqual(left[key] ?? null, right[key] ?? null, budget),
      )
    );
  }
  return false;
}

/** -1, 0 or 1; NaN compares unequal to everything (returns NaN). */
export function compareNumbers(left: number | bigint, right: number | bigint): number {
  if (typeof left === 'bigint' && typeof right === 'bigint') return left < right ? -1 : left > right ? 1 : 0;
  if (Number.isNaN(left) || Number.isNaN(right)) return Number.NaN;
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * Converts a stack value to what the caller receives. BigInts become numbers when they fit exactly and decimal
 * strings otherwise (JSON has no BigInt); errors, marks and functions cannot leave the evaluator.
 */
export function toJsonValue(value: Value, budget = { nodes: 1_000_000 }): JsonValue {
  budget.nodes -= 1;
  if (budget.nodes < 0) throw new ValueTooLargeError('the result is too large');
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('the result is not a finite number');
    return value;
  }
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (isSpecial(value)) throw new TypeError(`the result is a ${typeName(value)}, not a value`);
  if (isArray(value)) return value.map((item) => toJsonValue(item, budget));
  // Object.fromEntries defines own properties, so a key such as "__proto__" stays data.
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toJsonValue(item, budget)]));
}
