import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MonkError } from '@monk/model';
import { afterEach, describe, expect, it } from 'vitest';
import { containerFilePath, encodeTar } from './tar-archive.ts';

const run = promisify(execFile);
const mtime = new Date('2030-01-02T03:04:05Z');

describe('encodeTar', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  const extract = async (archive: Buffer): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'monk-tar-'));
    dirs.push(dir);
    await writeFile(join(dir, 'archive.tar'), archive);
    await run('tar', ['-x', '-p', '-f', join(dir, 'archive.tar'), '-C', dir]);
    return dir;
  };

  it('writes files that GNU tar extracts with their contents, modes and times', async () => {
    const deep = `/srv/${'d'.repeat(90)}/${'e'.repeat(60)}/config.yml`;
    const archive = encodeTar({
      files: [
        { path: '/etc/app/app.conf', contents: 'a = 1\nname = "é"\n', mode: 0o640 },
        { path: 'bin/run.sh', contents: '#!/bin/sh\n', mode: 0o755 },
        { path: '/empty', contents: '', mode: 0o600 },
        { path: deep, contents: 'deep', mode: 0o644 },
      ],
      mtime,
    });
    expect(archive.length % 512).toBe(0);
    const dir = await extract(archive);
    expect(await readFile(join(dir, 'etc/app/app.conf'), 'utf8')).toBe('a = 1\nname = "é"\n');
    expect((await stat(join(dir, 'etc/app/app.conf'))).mode & 0o7777).toBe(0o640);
    expect((await stat(join(dir, 'bin/run.sh'))).mode & 0o7777).toBe(0o755);
    expect((await stat(join(dir, 'empty'))).size).toBe(0);
    expect((await stat(join(dir, 'etc/app/app.conf'))).mtime).toEqual(mtime);
    expect(await readFile(join(dir, deep), 'utf8')).toBe('deep');
  });

  it('rejects paths that escape the root, name nothing, or do not fit ustar', () => {
    const invalid = (path: string) => () =>
      encodeTar({ files: [{ path, contents: '', mode: 0o644 }], mtime });
    const isInvalid = (error: unknown) => error instanceof MonkError && error.code === 'INVALID_REQUEST';
    expect(invalid('/etc/../../x')).toThrow(expect.toSatisfy(isInvalid));
    expect(invalid('/')).toThrow(expect.toSatisfy(isInvalid));
    expect(invalid(`/${'x'.repeat(101)}`)).toThrow(expect.toSatisfy(isInvalid));
    expect(containerFilePath('etc//./app.conf')).toBe('/etc/app.conf');
  });
});
