import { MonkError, type JsonValue } from '@monk/model';
import type { Caller } from '@monk/sdk';
import { describe, expect, it } from 'vitest';
import type { CallChannel, ControlService } from '../handlers.ts';
import { createAuthorizingService } from './authorizing-service.ts';

const channel: CallChannel = {
  emit: async () => undefined,
  clientFrames: (async function* () {})(),
  signal: new AbortController().signal,
};

/** A service that records what ran and answers `answer`. */
function recordingService(answer: JsonValue): ControlService & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async handle(method) {
      calls.push(method);
      return answer;
    },
  };
}

const deployer: Caller = { role: 'operator', id: 'op-1', name: 'ci', access: 'deploy' };

describe('createAuthorizingService', () => {
  it('refuses a call before it runs', async () => {
    const service = recordingService({});
    const guarded = createAuthorizingService(service, () => deployer);
    await expect(
      guarded.handle('cluster.joinToken', { ttlSeconds: 60, role: 'peer' }, channel),
    ).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    expect(service.calls).toEqual([]);
  });

  it('withholds a secret-derived answer from a deploy operator, not from a peer', async () => {
    const service = recordingService({ value: 's3cret', secret: true });
    const params = { path: 'a/b', action: 'reveal', args: {} };
    await expect(
      createAuthorizingService(service, () => deployer).handle('do', params, channel),
    ).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    await expect(
      createAuthorizingService(service, () => ({ role: 'peer', id: 'p' })).handle('do', params, channel),
    ).resolves.toEqual({ value: 's3cret', secret: true });
  });

  it('asks who the caller is at every call, so a removed operator is refused at once', async () => {
    let member = true;
    const guarded = createAuthorizingService(recordingService([]), () => {
      if (!member) throw new MonkError('NOT_A_MEMBER', 'op-1 is not a member of this cluster');
      return deployer;
    });
    await expect(guarded.handle('ps', { all: false }, channel)).resolves.toEqual([]);
    member = false;
    await expect(guarded.handle('ps', { all: false }, channel)).rejects.toMatchObject({
      code: 'NOT_A_MEMBER',
    });
  });
});
