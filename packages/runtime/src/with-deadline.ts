import { MonkError } from '@monk/model';

/** Settles with `promise`, or fails with `TIMEOUT` after `timeoutMs` or `CANCELLED` when `signal` aborts. */
export async function withDeadline<T>(
  promise: Promise<T>,
  options: { readonly timeoutMs?: number; readonly signal?: AbortSignal; readonly what: string },
): Promise<T> {
  const { promise: stopped, reject } = Promise.withResolvers<never>();
  const onAbort = (): void => reject(new MonkError('CANCELLED', `${options.what} was cancelled`));
  if (options.signal?.aborted === true) onAbort();
  options.signal?.addEventListener('abort', onAbort);
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          reject(new MonkError('TIMEOUT', `${options.what} did not finish within ${options.timeoutMs}ms`));
        }, options.timeoutMs);
  try {
    return await Promise.race([promise, stopped]);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** A function, not a property read, so the compiler does not assume an earlier check still holds. */
export function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
