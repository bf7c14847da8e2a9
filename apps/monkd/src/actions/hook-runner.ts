import { toMonkError, type Workload } from '@monk/model';
import type { Logger } from '../logger.ts';
import type { ActionRunner } from './action-runner.ts';

/** The container events hooks can name. */
export const containerStartedHook = 'container-started';

/**
 * Runs container `hooks`: after the reconciler starts a container whose workload has a
 * `container-started` hook, the named action of its runnable runs once, in the background. The outcome
 * is logged (a failure as a warning naming workload, action and error); values derived from secrets are
 * logged as `<secret>`.
 *
 * @example
 * const hooks = createHookRunner({ actions, logger });
 * createReconciler(options, { …, onContainerStarted: hooks.onContainerStarted });
 */
export interface HookRunner {
  /** Called by the reconciler after it started a container; never throws, returns at once. */
  onContainerStarted(workload: Workload, containerId: string): void;
  /** Resolves once every hook started so far has finished (tests, shutdown). */
  settled(): Promise<void>;
}

export function createHookRunner(components: { actions: ActionRunner; logger: Logger }): HookRunner {
  const { actions, logger } = components;
  const running = new Set<Promise<void>>();
  return {
    onContainerStarted(workload, containerId) {
      const action = workload.hooks?.[containerStartedHook];
      if (action === undefined) return;
      const fields = { workload: workload.id, container: containerId.slice(0, 12), action };
      const run = actions
        .run({ runnable: workload.runnable, action, instance: workload.id })
        .then(
          (result) =>
            logger.info(`hook ${containerStartedHook} ran`, {
              ...fields,
              result: result.secret ? '<secret>' : result.value,
            }),
          (error: unknown) =>
            logger.warn(`hook ${containerStartedHook} failed`, {
              ...fields,
              error: toMonkError(error).toJSON(),
            }),
        )
        .finally(() => running.delete(run));
      running.add(run);
    },
    async settled() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
