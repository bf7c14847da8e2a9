import { describe, expect, it } from 'vitest';
import { instanceStatus, type InstanceStatus, type InstanceView } from './instance-status.ts';

const ready = { phase: 'ready', ready: true } as const;

describe('instanceStatus', () => {
  const cases: ReadonlyArray<{ name: string; view: InstanceView; expected: InstanceStatus }> = [
    { name: 'own instance, ready', view: { observed: ready }, expected: { state: 'ready', ready: true } },
    {
      name: 'own instance, never reported',
      view: { observed: undefined },
      expected: { state: 'pending', ready: false },
    },
    {
      name: 'own instance, runtime down now (before the reconciler marked it)',
      view: { observed: ready, runtimeAvailable: false },
      expected: { state: 'unknown', ready: false, reason: 'runtime unavailable' },
    },
    {
      name: 'report says the owner runtime is unavailable (phase kept from before)',
      view: { observed: { phase: 'ready', ready: false, errorCode: 'RUNTIME_UNAVAILABLE' } },
      expected: { state: 'unknown', ready: false, reason: 'runtime unavailable' },
    },
    {
      name: 'owner dead, last report ready',
      view: { observed: ready, ownerState: 'dead' },
      expected: { state: 'unknown', ready: false, reason: 'peer dead' },
    },
    {
      name: 'owner dead and its runtime was down: the peer is the first thing wrong',
      view: {
        observed: { phase: 'ready', ready: false, errorCode: 'RUNTIME_UNAVAILABLE' },
        ownerState: 'dead',
      },
      expected: { state: 'unknown', ready: false, reason: 'peer dead' },
    },
    {
      name: 'owner left',
      view: { observed: ready, ownerState: 'left' },
      expected: { state: 'unknown', ready: false, reason: 'peer left' },
    },
    {
      name: 'owner suspect: still believed',
      view: { observed: ready, ownerState: 'suspect' },
      expected: { state: 'ready', ready: true },
    },
    {
      name: 'owner not yet heard of by membership: report believed',
      view: { observed: ready, ownerState: 'unknown' },
      expected: { state: 'ready', ready: true },
    },
    {
      name: 'a failure reported by a live owner',
      view: {
        observed: { phase: 'failed', ready: false, errorCode: 'IMAGE_NOT_FOUND' },
        ownerState: 'alive',
      },
      expected: { state: 'failed', ready: false },
    },
  ];
  it.each(cases)('$name', ({ view, expected }) => {
    expect(instanceStatus(view)).toEqual(expected);
  });
});
