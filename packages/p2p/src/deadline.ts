import { MonkError } from '@monk/model';

/** A timeout and an optional caller signal folded into one signal whose reason is a MonkError. */
export interface Deadline extends Disposable {
  readonly signal: AbortSignal;
  /** `TIMEOUT` or `CANCELLED` once the signal fired, else undefined. */
  reason(): MonkError | undefined;
  /** Resolves like `promise`, or rejects with the deadline's MonkError as soon as it fires. */
  race<T>(promise: Promise<T>): Promise<T>;
}

export function createDeadline(options: {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly what: string;
}): Deadline {
  const controller = new AbortController();
  let reason: MonkError | undefined;
  const fire = (error: MonkError): void => {
    if (reason !== undefined) return;
    reason = error;
    controller.abort(error);
  };
  const timer = setTimeout(() => {
    fire(new MonkError('TIMEOUT', `${options.what} timed out after ${String(options.timeoutMs)} ms`));
  }, options.timeoutMs);
  const caller = options.signal;
  const onAbort = (): void => {
    fire(new MonkError('CANCELLED', `${options.what} was cancelled`, { cause: caller?.reason }));
  };
  if (caller?.aborted === true) onAbort();
  else caller?.addEventListener('abort', onAbort, { once: true });

  return {
    signal: controller.signal,
    reason: () => reason,
    race<T>(promise: Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const onFire = (): void =>
          reject(reason ?? new MonkError('CANCELLED', `${options.what} was cancelled`));
        if (controller.signal.aborted) {
          onFire();
          promise.catch(() => undefined);
          return;
        }
        controller.signal.addEventListener('abort', onFire, { once: true });
        promise.then(
          (value) => {
            controller.signal.removeEventListener('abort', onFire);
            resolve(value);
          },
          (error: unknown) => {
            controller.signal.removeEventListener('abort', onFire);
            reject(error instanceof Error ? error : new Error(String(error)));
          },
        );
      });
    },
    [Symbol.dispose]() {
      clearTimeout(timer);
      caller?.removeEventListener('abort', onAbort);
    },
  };
}
