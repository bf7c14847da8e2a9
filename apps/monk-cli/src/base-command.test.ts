import { describe, expect, it } from 'vitest';
import { clusterFlag, defaultSocketPath, parseSetFlags, socketFlag } from './base-command.ts';

describe('global flags read from argv before parsing', () => {
  it('finds --socket and --cluster in either form, before --', () => {
    expect(socketFlag(['ps', '--socket', '/tmp/m.sock'])).toBe('/tmp/m.sock');
    expect(socketFlag(['--socket=/tmp/m.sock', 'ps'])).toBe('/tmp/m.sock');
    expect(clusterFlag(['cluster', 'peers', '--cluster', 'prod'])).toBe('prod');
    expect(clusterFlag(['--cluster=prod', 'ps'])).toBe('prod');
    expect(clusterFlag(['--socket', '/s', 'ps'])).toBeUndefined();
    expect(socketFlag(['exec', 'ns/app', '--', 'x', '--socket', '/s'])).toBeUndefined();
  });
});

describe('defaultSocketPath', () => {
  it('prefers $MONK_SOCKET, then $MONK_HOME/monkd.sock', () => {
    expect(defaultSocketPath({ MONK_SOCKET: '/run/m.sock', MONK_HOME: '/h' })).toBe('/run/m.sock');
    expect(defaultSocketPath({ MONK_HOME: '/h' })).toBe('/h/monkd.sock');
  });
});

describe('parseSetFlags', () => {
  it('splits name=value at the first =', () => {
    expect(parseSetFlags(['a=1', 'ns/r/b=x=y'])).toEqual({ a: '1', 'ns/r/b': 'x=y' });
    expect(() => parseSetFlags(['=1'])).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
  });
});
