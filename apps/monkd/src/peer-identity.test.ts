import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MonkError } from '@monk/model';
import { unsealDataFile } from './data-file.ts';
import { loadOrCreatePeer } from './peer-identity.ts';

describe('loadOrCreatePeer', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'monk-peer-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const failure = async (): Promise<MonkError> => {
    const error: unknown = await loadOrCreatePeer({ dataDir, name: 'p1' }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(MonkError);
    return error as MonkError;
  };

  it('creates peer.json once and keeps the name', async () => {
    expect((await loadOrCreatePeer({ dataDir, name: 'p1' })).name).toBe('p1');
    expect((await loadOrCreatePeer({ dataDir, name: 'other' })).name).toBe('p1');
    const file = join(dataDir, 'peer.json');
    expect(JSON.parse(unsealDataFile(file, await readFile(file)).toString('utf8'))).toEqual({ name: 'p1' });
  });

  it('reads a peer.json written by hand or by an older monk (no checksum trailer)', async () => {
    await writeFile(join(dataDir, 'peer.json'), '{"name": "by-hand"}\n');
    expect((await loadOrCreatePeer({ dataDir, name: 'p1' })).name).toBe('by-hand');
  });

  it('refuses a garbage peer.json with DATA_FILE_INVALID, naming the file and the repair', async () => {
    const file = join(dataDir, 'peer.json');
    await writeFile(file, '\u0000garbage{');
    const error = await failure();
    expect(error.code).toBe('DATA_FILE_INVALID');
    expect(error.message).toMatch(
      new RegExp(`^${file} is not valid JSON \\(.+\\); write it as \\{"name": "PEER-NAME"\\}`),
    );
    expect(error.details).toEqual({ file });
  });

  it('refuses a peer.json of the wrong shape, saying which field is wrong', async () => {
    const file = join(dataDir, 'peer.json');
    await writeFile(file, JSON.stringify({ name: '' }));
    const error = await failure();
    expect(error.code).toBe('DATA_FILE_INVALID');
    expect(error.message).toContain(`${file} is not a peer file (name: `);
  });
});
