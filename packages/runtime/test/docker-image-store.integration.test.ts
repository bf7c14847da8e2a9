import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { MonkError } from '@monk/model';
import { createDockerImageStore } from '@monk/runtime';
import { encodeTar } from '../src/tar-archive.ts';
import { describeImageStoreCompliance } from '../src/test-image-compliance.ts';

const store = createDockerImageStore({});

/** `docker import` of a one-file root filesystem with random contents: an image with an ID of its own. */
async function seed(ref: string): Promise<Awaited<ReturnType<typeof store.inspectImage>> & object> {
  const tar = encodeTar({
    files: [{ path: '/seed.txt', contents: randomBytes(16).toString('hex'), mode: 0o644 }],
    mtime: new Date(),
  });
  await new Promise<void>((resolve, reject) => {
    const child = execFile('docker', ['import', '-', ref], (error) => {
      if (error === null) resolve();
      else reject(new MonkError('INTERNAL', `docker import failed: ${error.message}`));
    });
    child.stdin?.end(tar);
  });
  const info = await store.inspectImage(ref);
  if (info === undefined) throw new MonkError('INTERNAL', `docker import did not create ${ref}`);
  return info;
}

describeImageStoreCompliance('docker', {
  requirement: ' (needs Docker)',
  store,
  refPrefix: 'monk-test/image-store',
  seed,
});
