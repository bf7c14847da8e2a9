import { describe, expect, it } from 'vitest';
import { defaultMembershipConfig, resolveMembershipConfig } from './membership-config.ts';

describe('membership config', () => {
  it('merges overrides over the defaults', () => {
    expect(resolveMembershipConfig({ indirectChecks: 5 })).toEqual({
      ...defaultMembershipConfig,
      indirectChecks: 5,
    });
  });

  it.each([
    [{ probeIntervalMs: 0 }],
    [{ probeTimeoutMs: 300 }],
    [{ gossipNodes: -1 }],
    [{ suspicionMult: Number.NaN }],
    [{ awarenessMaxMultiplier: 0 }],
  ])('rejects %j', (overrides) => {
    expect(() => resolveMembershipConfig(overrides)).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST' }),
    );
  });
});
