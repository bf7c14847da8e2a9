import { MonkError, type OperatorAccess } from '@monk/model';
import { describe, expect, it } from 'vitest';
import { authorizeCall, authorizeResult, methodAccess, type Caller } from './access.ts';
import { methodParams, type MethodName } from './protocol.ts';

const operator = (access: OperatorAccess, id = 'op-1'): Caller => ({
  role: 'operator',
  id,
  name: 'laptop-operator',
  access,
});
const peer: Caller = { role: 'peer', id: 'peer-1' };

/** What the call answers: `ok`, or the code it was refused with. */
function outcome(caller: Caller, method: MethodName, params: unknown = {}): string {
  try {
    authorizeCall({ caller, method, params });
    return 'ok';
  } catch (error) {
    return error instanceof MonkError ? error.code : String(error);
  }
}

describe('authorizeCall', () => {
  it('has an entry for every method of the protocol', () => {
    expect(Object.keys(methodAccess).sort()).toEqual(Object.keys(methodParams).sort());
  });

  it.each([
    // method, [view, deploy, admin]
    ['info', ['ok', 'ok', 'ok']],
    ['ps', ['ok', 'ok', 'ok']],
    ['describe', ['ok', 'ok', 'ok']],
    ['events', ['ok', 'ok', 'ok']],
    ['logs', ['ok', 'ok', 'ok']],
    ['stats', ['ok', 'ok', 'ok']],
    ['plan', ['ok', 'ok', 'ok']],
    ['templates.list', ['ok', 'ok', 'ok']],
    ['templates.dump', ['ok', 'ok', 'ok']],
    ['secrets.list', ['ok', 'ok', 'ok']],
    ['cluster.info', ['ok', 'ok', 'ok']],
    ['cluster.peers', ['ok', 'ok', 'ok']],
    ['images.list', ['ok', 'ok', 'ok']],
    ['registry.list', ['ok', 'ok', 'ok']],
    ['registry.login', ['ACCESS_DENIED', 'ok', 'ok']],
    ['registry.logout', ['ACCESS_DENIED', 'ok', 'ok']],
    ['templates.put', ['ACCESS_DENIED', 'ok', 'ok']],
    ['run', ['ACCESS_DENIED', 'ok', 'ok']],
    ['update', ['ACCESS_DENIED', 'ok', 'ok']],
    ['scale', ['ACCESS_DENIED', 'ok', 'ok']],
    ['stop', ['ACCESS_DENIED', 'ok', 'ok']],
    ['restart', ['ACCESS_DENIED', 'ok', 'ok']],
    ['purge', ['ACCESS_DENIED', 'ok', 'ok']],
    ['exec', ['ACCESS_DENIED', 'ok', 'ok']],
    ['portForward', ['ACCESS_DENIED', 'ok', 'ok']],
    ['do', ['ACCESS_DENIED', 'ok', 'ok']],
    ['secrets.add', ['ACCESS_DENIED', 'ok', 'ok']],
    ['secrets.remove', ['ACCESS_DENIED', 'ok', 'ok']],
    ['cluster.joinToken', ['ACCESS_DENIED', 'ACCESS_DENIED', 'ok']],
    ['cluster.peerTags', ['ACCESS_DENIED', 'ACCESS_DENIED', 'ok']],
    ['cluster.peerRemove', ['ACCESS_DENIED', 'ACCESS_DENIED', 'ok']],
    ['cluster.shrink', ['ACCESS_DENIED', 'ACCESS_DENIED', 'ok']],
    ['cluster.destroy', ['ACCESS_DENIED', 'ACCESS_DENIED', 'ok']],
    ['cluster.grow', ['ACCESS_DENIED', 'ACCESS_DENIED', 'ok']],
    ['cluster.new', ['ACCESS_DENIED', 'ACCESS_DENIED', 'ACCESS_DENIED']],
    ['cluster.join', ['ACCESS_DENIED', 'ACCESS_DENIED', 'ACCESS_DENIED']],
    ['cluster.exit', ['ACCESS_DENIED', 'ACCESS_DENIED', 'ACCESS_DENIED']],
  ] as const)('%s: view, deploy, admin get %j', (method, expected) => {
    const got = (['view', 'deploy', 'admin'] as const).map((access) => outcome(operator(access), method));
    expect(got).toEqual(expected);
  });

  it('lets peers call every method', () => {
    for (const method of Object.keys(methodParams) as MethodName[]) expect(outcome(peer, method)).toBe('ok');
  });

  it('lets any operator remove itself, and only itself', () => {
    expect(outcome(operator('view', 'op-1'), 'cluster.peerRemove', { id: 'op-1' })).toBe('ok');
    expect(outcome(operator('view', 'op-1'), 'cluster.peerRemove', { id: 'op-2' })).toBe('ACCESS_DENIED');
    expect(outcome(operator('deploy', 'op-1'), 'cluster.peerRemove', { id: 'peer-1' })).toBe('ACCESS_DENIED');
  });

  it('names the method, the access needed and the caller with its access', () => {
    expect(() =>
      authorizeCall({ caller: operator('deploy', '12D3KooWabc'), method: 'cluster.joinToken', params: {} }),
    ).toThrow(
      expect.objectContaining({
        code: 'ACCESS_DENIED',
        message:
          'cluster.joinToken needs admin access; operator laptop-operator (12D3KooWabc) has deploy access',
        details: { method: 'cluster.joinToken', access: 'deploy', needed: 'admin' },
      }),
    );
    expect(() => authorizeCall({ caller: operator('admin'), method: 'cluster.exit', params: {} })).toThrow(
      "cluster.exit needs the peer's own host (run it there on the local monkd); operator laptop-operator (op-1) has admin access",
    );
  });
});

describe('authorizeResult', () => {
  const secretResult = { value: 's3cret\n', secret: true };

  it.each([
    ['view', 'ACCESS_DENIED'],
    ['deploy', 'ACCESS_DENIED'],
    ['admin', 'ok'],
  ] as const)('a result derived from a secret, to a %s operator: %s', (access, expected) => {
    let got = 'ok';
    try {
      authorizeResult({ caller: operator(access), method: 'do', result: secretResult });
    } catch (error) {
      got = error instanceof MonkError ? error.code : String(error);
    }
    expect(got).toBe(expected);
  });

  it('passes results without secrets, and every result to peers', () => {
    expect(() =>
      authorizeResult({ caller: operator('view'), method: 'do', result: { value: 'x' } }),
    ).not.toThrow();
    expect(() => authorizeResult({ caller: peer, method: 'do', result: secretResult })).not.toThrow();
  });

  it('says that reading secret values needs admin', () => {
    expect(() => authorizeResult({ caller: operator('deploy'), method: 'do', result: secretResult })).toThrow(
      'do: the result comes from a secret, and reading secret values needs admin access; operator laptop-operator (op-1) has deploy access',
    );
  });
});
