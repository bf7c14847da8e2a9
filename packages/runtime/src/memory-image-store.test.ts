import { randomBytes } from 'node:crypto';
import { createMemoryImageStore } from './memory-image-store.ts';
import { describeImageStoreCompliance } from './test-image-compliance.ts';

const store = createMemoryImageStore();
describeImageStoreCompliance('memory', {
  store,
  refPrefix: 'monk-test/memory-image',
  seed: async (ref) => store.addImage({ ref, id: `sha256:${randomBytes(32).toString('hex')}` }),
});
