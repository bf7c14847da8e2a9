import { describe, expect, it } from 'vitest';
import { describeTarget, flagValue, selectTarget } from './control-target.ts';
import type { SelectTargetOptions } from './control-target.ts';

const base: SelectTargetOptions = {
  socket: undefined,
  cluster: undefined,
  env: {},
  home: '/home/op/.monk',
  currentContext: () => 'prod',
};

describe('selectTarget', () => {
  it.each<[string, Partial<SelectTargetOptions>, ReturnType<typeof selectTarget>]>([
    [
      '--socket first',
      { socket: '/s', env: { MONK_SOCKET: '/e' } },
      { kind: 'socket', path: '/s', from: 'flag' },
    ],
    [
      '--cluster over $MONK_SOCKET',
      { cluster: 'dev', env: { MONK_SOCKET: '/e' } },
      { kind: 'context', name: 'dev', from: 'flag' },
    ],
    [
      '$MONK_SOCKET over the current context',
      { env: { MONK_SOCKET: '/e' } },
      { kind: 'socket', path: '/e', from: 'env' },
    ],
    ['the current context', {}, { kind: 'context', name: 'prod', from: 'current' }],
    [
      'an empty $MONK_SOCKET is unset',
      { env: { MONK_SOCKET: '' } },
      { kind: 'context', name: 'prod', from: 'current' },
    ],
    [
      'the default socket without a context',
      { currentContext: () => undefined },
      { kind: 'socket', path: '/home/op/.monk/monkd.sock', from: 'default' },
    ],
  ])('picks %s', (_name, options, expected) => {
    expect(selectTarget({ ...base, ...options })).toEqual(expected);
  });

  it('does not read the current context when a flag or the environment decides', () => {
    const currentContext = (): string => {
      throw new Error('read the current-context file');
    };
    expect(selectTarget({ ...base, socket: '/s', currentContext }).kind).toBe('socket');
    expect(selectTarget({ ...base, cluster: 'x', currentContext }).kind).toBe('context');
    expect(selectTarget({ ...base, env: { MONK_SOCKET: '/e' }, currentContext }).kind).toBe('socket');
  });

  it('refuses --socket together with --cluster', () => {
    expect(() => selectTarget({ ...base, socket: '/s', cluster: 'x' })).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST' }),
    );
  });
});

describe('describeTarget', () => {
  it('says which cluster or daemon, and why', () => {
    expect(describeTarget({ kind: 'context', name: 'prod', from: 'current' })).toBe('prod (operator)');
    expect(describeTarget({ kind: 'context', name: 'prod', from: 'flag' })).toBe(
      'prod (operator, --cluster)',
    );
    expect(describeTarget({ kind: 'socket', path: '/m.sock', from: 'default' })).toBe(
      'local monkd at /m.sock',
    );
    expect(describeTarget({ kind: 'socket', path: '/m.sock', from: 'env' })).toBe(
      'local monkd at /m.sock ($MONK_SOCKET)',
    );
  });
});

describe('flagValue', () => {
  it.each<[string[], string | undefined]>([
    [['--cluster', 'prod', 'ps'], 'prod'],
    [['ps', '--cluster=prod'], 'prod'],
    [['ps', '--cluster='], ''],
    [['ps', '--clusters', 'x'], undefined],
    [['exec', 'ns/app', '--', 'sh', '--cluster', 'x'], undefined],
    [['ps', '--cluster'], undefined],
  ])('reads %j as %j', (argv, expected) => {
    expect(flagValue(argv, 'cluster')).toBe(expected);
  });
});
