import { authorizeCall, authorizeResult, type Caller } from '@monk/sdk';
import type { ControlService } from '../handlers.ts';

/**
 * The control service as a caller from the network sees it: each call is checked against the caller's
 * access before it runs (`authorizeCall`) and its answer before it is returned (`authorizeResult`).
 * `caller` is asked at each call, so a removed or downgraded operator is refused from its next call on;
 * it throws (e.g. `NOT_A_MEMBER`) for a caller the cluster does not know.
 */
export function createAuthorizingService(service: ControlService, caller: () => Caller): ControlService {
  return {
    async handle(method, params, channel) {
      const who = caller();
      authorizeCall({ caller: who, method, params });
      const result = await service.handle(method, params, channel);
      authorizeResult({ caller: who, method, result });
      return result;
    },
  };
}
