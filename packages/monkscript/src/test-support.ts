import { expect } from 'vitest';
import { MonkError, toDnsLabel } from '@monk/model';
import type { ResolveHost } from './resolve-context.ts';

/** Awaits a promise that must reject with a MonkError and returns the error. */
export async function rejection(promise: Promise<unknown>): Promise<MonkError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(MonkError);
  return error as MonkError;
}

/** Runs a function that must throw a MonkError and returns the error. */
export function thrown(run: () => unknown): MonkError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MonkError);
    return error as MonkError;
  }
  throw new Error('expected a MonkError');
}

/** The daemon's naming rule for runnable hostnames, as tests use it. */
export const testHost: ResolveHost = {
  hostnameOf: (path) => toDnsLabel(path.replace('/', '-')),
  secret: (name) => Promise.resolve(`value-of-${name}`),
};
