import type { HandlerGroup } from '../handlers.ts';
import type { Logger } from '../logger.ts';
import { globalScope, type SecretStore } from './secret-store.ts';

/**
 * The control API's `secrets.add`, `secrets.list` and `secrets.remove`. A secret belongs to the global
 * scope, or to one runnable (`runnable: ns/name`). Values go in and never come out: not in answers, not
 * in logs.
 */
export function createSecretsHandlers(components: { secrets: SecretStore; logger: Logger }): HandlerGroup {
  const { secrets, logger } = components;
  const scopeOf = (runnable: string | undefined): string =>
    runnable === undefined ? globalScope : runnable.replace(/^\/+/, '');
  return {
    'secrets.add': async (params) => {
      const entry = await secrets.add({
        name: params.name,
        value: params.value,
        scope: scopeOf(params.runnable),
      });
      logger.info('secret stored', { secret: entry.name, scope: entry.scope });
      return entry;
    },
    'secrets.list': async (params) =>
      secrets.list(params.runnable === undefined ? {} : { scope: scopeOf(params.runnable) }),
    'secrets.remove': async (params) => {
      const entry = await secrets.remove({ name: params.name, scope: scopeOf(params.runnable) });
      logger.info('secret removed', { secret: entry.name, scope: entry.scope });
      return entry;
    },
  };
}
