import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertContextName, contextNameFor, createContextStore } from './context-store.ts';
import { monkHome, readCurrentContextName } from './monk-home.ts';
import type { ClusterContext, ContextStore } from './context-store.ts';

let home: string;
let store: ContextStore;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'monk-contexts-'));
  store = createContextStore({ home });
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

function context(name: string, clusterId = `id-${name}`): ClusterContext {
  return {
    name,
    clusterId,
    clusterName: name,
    networkKey: 'a'.repeat(43),
    peers: [{ id: '12D3KooWpeer', name: 'node-1', addresses: ['/ip4/10.0.0.1/tcp/44001/p2p/12D3KooWpeer'] }],
    createdAt: '2025-01-01T00:00:00.000Z',
  };
}

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

describe('the context store', () => {
  it('saves contexts privately and lists them by name', async () => {
    await store.save(context('staging'));
    await store.save(context('prod'));
    expect((await store.list()).map((c) => c.name)).toEqual(['prod', 'staging']);
    expect(await store.get('prod')).toEqual(context('prod'));
    expect(await modeOf(join(store.directory('prod'), 'context.json'))).toBe(0o600);
    expect(await modeOf(store.directory('prod'))).toBe(0o700);
  });

  it('replaces a context atomically, leaving no temporary file', async () => {
    await store.save(context('prod'));
    await store.save({ ...context('prod'), peers: [] });
    expect((await store.get('prod')).peers).toEqual([]);
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(store.directory('prod'))).toEqual(['context.json']);
  });

  it('selects a context, and only an existing one', async () => {
    expect(await store.current()).toBeUndefined();
    await store.save(context('prod'));
    await store.select('prod');
    expect(await store.current()).toBe('prod');
    expect(readCurrentContextName(home)).toBe('prod');
    expect(await modeOf(join(home, 'current-context'))).toBe(0o600);
    await expect(store.select('nope')).rejects.toMatchObject({ code: 'CONTEXT_NOT_FOUND' });
    expect(await store.current()).toBe('prod');
    await store.select(undefined);
    expect(await store.current()).toBeUndefined();
  });

  it('forgets a context with its identity and clears it when it was current', async () => {
    await store.save(context('prod'));
    await store.save(context('staging'));
    await writeFile(store.identityFile('prod'), 'secret', { mode: 0o600 });
    await store.select('prod');
    expect(await store.forget('prod')).toBe(true);
    expect(await store.find('prod')).toBeUndefined();
    await expect(stat(store.directory('prod'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await store.current()).toBeUndefined();
    expect(await store.forget('prod')).toBe(false);
    expect((await store.list()).map((c) => c.name)).toEqual(['staging']);
  });

  it('keeps the current context when forgetting another one', async () => {
    await store.save(context('prod'));
    await store.save(context('staging'));
    await store.select('prod');
    await store.forget('staging');
    expect(await store.current()).toBe('prod');
  });

  it('reports a malformed context as STORAGE_FAILED and can still forget it', async () => {
    await mkdir(store.directory('broken'), { recursive: true });
    await writeFile(join(store.directory('broken'), 'context.json'), '{"name":');
    await expect(store.get('broken')).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    expect(await store.forget('broken')).toBe(true);
  });

  it('refuses names that cannot be folders', async () => {
    for (const name of ['../evil', '', '.hidden', 'a/b', 'x'.repeat(64)]) {
      expect(() => store.directory(name)).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
    }
    expect(assertContextName('prod-eu.1_a')).toBe('prod-eu.1_a');
  });

  it('derives folder-safe context names from cluster names', () => {
    expect(contextNameFor('prod eu', 'id')).toBe('prod-eu');
    expect(contextNameFor('../../etc', 'id')).toBe('etc');
    expect(contextNameFor('ünïcode', 'c0ffee')).toBe('n-code');
    expect(contextNameFor('///', 'c0ffee')).toBe('c0ffee');
  });

  it('reads an empty or missing current-context file as none', async () => {
    expect(readCurrentContextName(home)).toBeUndefined();
    await writeFile(join(home, 'current-context'), '\n');
    expect(readCurrentContextName(home)).toBeUndefined();
    await writeFile(join(home, 'current-context'), ' prod \n');
    expect(readCurrentContextName(home)).toBe('prod');
    expect(await readFile(join(home, 'current-context'), 'utf8')).toBe(' prod \n');
  });

  it('lives in $MONK_HOME, else ~/.monk', () => {
    expect(monkHome({ MONK_HOME: '/srv/monk' })).toBe('/srv/monk');
    expect(monkHome({ MONK_HOME: '' })).toMatch(/\.monk$/);
    expect(monkHome({})).toMatch(/\.monk$/);
  });
});
