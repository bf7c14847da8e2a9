import { isAbsolute, join, normalize } from 'node:path';
import { MonkError } from '@monk/model';

/** A plain object as parsed from YAML. */
export type ComposeRecord = Record<string, unknown>;

/** Where a value came from, for errors: the file and the dotted key path inside it. */
export interface ValueOrigin {
  readonly file: string;
  readonly key: string;
}

export function isRecord(value: unknown): value is ComposeRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A `COMPOSE_INVALID` error naming the file and key. */
export function composeInvalid(origin: ValueOrigin, message: string, cause?: unknown): MonkError {
  return new MonkError('COMPOSE_INVALID', `${origin.file}: ${origin.key}: ${message}`, {
    details: { file: origin.file, key: origin.key },
    ...(cause === undefined ? {} : { cause }),
  });
}

export function child(origin: ValueOrigin, key: string | number): ValueOrigin {
  return {
    file: origin.file,
    key: typeof key === 'number' ? `${origin.key}[${key}]` : `${origin.key}.${key}`,
  };
}

export function expectRecord(value: unknown, origin: ValueOrigin): ComposeRecord {
  if (isRecord(value)) return value;
  throw composeInvalid(origin, `must be a mapping, got ${describe(value)}`);
}

export function expectArray(value: unknown, origin: ValueOrigin): unknown[] {
  if (Array.isArray(value)) return value;
  throw composeInvalid(origin, `must be a list, got ${describe(value)}`);
}

/** A scalar as a string: Compose accepts numbers and booleans wherever it wants text. */
export function expectScalar(value: unknown, origin: ValueOrigin): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw composeInvalid(origin, `must be a string, got ${describe(value)}`);
}

export function expectString(value: unknown, origin: ValueOrigin): string {
  if (typeof value === 'string') return value;
  throw composeInvalid(origin, `must be a string, got ${describe(value)}`);
}

export function expectBoolean(value: unknown, origin: ValueOrigin): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw composeInvalid(origin, `must be true or false, got ${describe(value)}`);
}

export function expectInteger(value: unknown, origin: ValueOrigin): number {
  const number = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof number === 'number' && Number.isInteger(number)) return number;
  throw composeInvalid(origin, `must be an integer, got ${describe(value)}`);
}

/** A list of strings, or one string taken as a one-element list (`tmpfs: /tmp`). */
export function expectStringList(value: unknown, origin: ValueOrigin): string[] {
  if (typeof value === 'string') return [value];
  return expectArray(value, origin).map((item, index) => expectScalar(item, child(origin, index)));
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** Sets an own property, also for keys such as `__proto__` that plain assignment would treat specially. */
export function setOwn<T>(target: Record<string, T>, key: string, value: NoInfer<T>): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * `path` made absolute against `dir` when it is relative, without looking at the process's working
 * folder (unlike `path.resolve`): a relative `dir` gives a relative result.
 */
export function resolvePath(dir: string, path: string): string {
  return isAbsolute(path) ? normalize(path) : join(dir, path);
}
