/**
 * A single-consumer push queue read as an async iterable. Producers push, then end or fail it; values pushed
 * before the consumer arrives are buffered. `onReturn` runs once when the consumer stops early or the queue
 * settles, so the producer can release what it holds (a request, a subscription).
 */
export interface AsyncQueue<T> extends AsyncIterable<T> {
  push(value: T): void;
  end(): void;
  fail(error: unknown): void;
  readonly closed: boolean;
}

export function createAsyncQueue<T>(options: { onClose?: () => void } = {}): AsyncQueue<T> {
  const buffer: T[] = [];
  let settled: { error: unknown } | 'ended' | undefined;
  let wake: (() => void) | undefined;
  let closed = false;

  const close = (): void => {
    if (closed) return;
    closed = true;
    options.onClose?.();
  };
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  return {
    get closed() {
      return closed || settled !== undefined;
    },
    push(value) {
      if (settled !== undefined || closed) return;
      buffer.push(value);
      notify();
    },
    end() {
      if (settled !== undefined) return;
      settled = 'ended';
      close();
      notify();
    },
    fail(error) {
      if (settled !== undefined) return;
      settled = { error };
      close();
      notify();
    },
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          const next = buffer.shift();
          if (next !== undefined) {
            yield next;
            continue;
          }
          if (settled !== undefined && settled !== 'ended') throw settled.error;
          if (settled === 'ended' || closed) return;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      } finally {
        close();
      }
    },
  };
}
