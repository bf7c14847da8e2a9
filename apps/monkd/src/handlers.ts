import { MonkError, toMonkError, type JsonObject, type JsonValue } from '@monk/model';
import type { ClientFrame, MethodName, ParsedParams } from '@monk/sdk';

/** What a handler may do while it runs: stream events, read client frames, notice a hang-up. */
export interface CallChannel {
  emit(event: JsonObject): Promise<void>;
  readonly clientFrames: AsyncIterable<ClientFrame>;
  readonly signal: AbortSignal;
}

export type Handler<M extends MethodName> = (
  params: ParsedParams<M>,
  channel: CallChannel,
) => Promise<unknown>;

/** Handlers of some methods of the control protocol; the daemon merges several groups. */
export type HandlerGroup = { readonly [M in MethodName]?: Handler<M> };

/** Serves calls: validated parameters in, a JSON result or a MonkError out. */
export interface ControlService {
  handle<M extends MethodName>(method: M, params: ParsedParams<M>, channel: CallChannel): Promise<JsonValue>;
}

/** Merges handler groups into one service; a method no group serves answers INVALID_REQUEST. */
export function createDispatcher(groups: readonly HandlerGroup[]): ControlService {
  const merged = new Map<string, Handler<MethodName>>();
  for (const group of groups) {
    for (const [method, handler] of Object.entries(group)) merged.set(method, handler);
  }
  return {
    async handle(method, params, channel) {
      const handler = merged.get(method);
      if (handler === undefined) {
        throw new MonkError('INVALID_REQUEST', `${method} is not available on this peer`);
      }
      try {
        return (await handler(params, channel)) as JsonValue;
      } catch (error) {
        throw toMonkError(error);
      }
    },
  };
}
