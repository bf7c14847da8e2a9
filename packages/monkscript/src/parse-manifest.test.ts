import { describe, expect, it } from 'vitest';
import { parseManifest } from './parse-manifest.ts';
import { thrown } from './test-support.ts';

describe('parseManifest', () => {
  it('reads every keyword of the kits', () => {
    const manifest = parseManifest({
      file: 'MANIFEST',
      text: [
        'REPO auth0-integration',
        'LOAD a.yaml  b.yaml ',
        'LOAD c.yaml',
        '',
        '# comment',
        'DIRS x y',
        'DIR z',
        'RESOURCES files/a.sh files/b.conf',
        'ENTRY auth0-integration/stack',
        'IMAGE app:latest app . Dockerfile',
        'SECRET s1 s2',
        'ENV A=1',
        'BLOBS blob',
        'DESCRIPTION A demo kit',
      ].join('\r\n'),
    });
    expect(manifest).toEqual({
      file: 'MANIFEST',
      repo: 'auth0-integration',
      load: ['a.yaml', 'b.yaml', 'c.yaml'],
      dirs: ['x', 'y', 'z'],
      resources: ['files/a.sh', 'files/b.conf'],
      entry: 'auth0-integration/stack',
      secrets: ['s1', 's2'],
      env: ['A=1'],
      images: [{ name: 'app:latest', args: ['app', '.', 'Dockerfile'] }],
      blobs: ['blob'],
      metadata: { DESCRIPTION: 'A demo kit' },
    });
  });

  it('names the line of an invalid entry', () => {
    const error = thrown(() => parseManifest({ file: 'kit/MANIFEST', text: 'REPO x\nload a.yaml\n' }));
    expect(error.code).toBe('MANIFEST_INVALID');
    expect(error.location).toEqual({ file: 'kit/MANIFEST', line: 2, column: 1, path: 'load' });
    expect(thrown(() => parseManifest({ file: 'M', text: 'LOAD' })).message).toContain('LOAD needs');
    expect(thrown(() => parseManifest({ file: 'M', text: 'ENTRY a/b\nENTRY a/c' })).message).toContain(
      'twice',
    );
  });
});
