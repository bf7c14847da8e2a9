import type { HandlerGroup } from '../handlers.ts';
import type { Logger } from '../logger.ts';
import type { ActionRunner } from './action-runner.ts';

/**
 * The control API's `do`: runs an action of a running runnable and answers `{ value }`, the value its code
 * returned, with `secret: true` when a secret went into it. Such a value is returned to the host's own
 * operator and to admin operators (the network edge refuses it to others, see `authorizeResult`), and
 * never logged.
 */
export function createActionsHandlers(components: { actions: ActionRunner; logger: Logger }): HandlerGroup {
  return {
    do: async (params, channel) => {
      const { value, secret } = await components.actions.run({
        runnable: params.path,
        action: params.action,
        args: params.args,
        signal: channel.signal,
      });
      components.logger.info('action ran', { runnable: params.path, action: params.action, secret });
      return secret ? { value, secret: true } : { value };
    },
  };
}
