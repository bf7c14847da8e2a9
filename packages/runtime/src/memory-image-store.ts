import { createHash } from 'node:crypto';
import { MonkError } from '@monk/model';
import type { ImageInfo, ImageStore, PullImageOptions } from './image-store.ts';

export interface MemoryImageStoreOptions {
  /** Images the fake engine starts with; an ID is derived from the reference unless given. */
  readonly images?: readonly { readonly ref: string; readonly id?: string; readonly sizeBytes?: number }[];
  /**
   * What a pull does: return the image a registry serves, or throw (`REGISTRY_UNAVAILABLE`,
   * `IMAGE_NOT_FOUND`). Default: no registry answers.
   */
  readonly registry?: (ref: string, options: PullImageOptions) => Promise<{ id: string; sizeBytes: number }>;
}

/** The in-memory twin of {@link ImageStore}, with controls for tests. */
export interface MemoryImageStore extends ImageStore {
  /** Adds (or retags) an image, as a `docker load` would. */
  addImage(image: { readonly ref: string; readonly id?: string; readonly sizeBytes?: number }): ImageInfo;
  /** Takes the fake engine down (every call then throws `RUNTIME_UNAVAILABLE`) or up. */
  setAvailable(available: boolean): void;
}

interface Stored {
  readonly id: string;
  readonly sizeBytes: number;
  readonly tags: Set<string>;
}

/**
 * Creates an in-memory {@link ImageStore}. Its archives are small JSON documents (not tars) naming the image's
 * ID, size and tags; only another memory store loads them.
 *
 * @example
 * const images = createMemoryImageStore({ images: [{ ref: 'monk-local/app:1', sizeBytes: 5_000_000 }] });
 * await other.importImage(images.exportImage('monk-local/app:1'));
 */
export function createMemoryImageStore(options: MemoryImageStoreOptions = {}): MemoryImageStore {
  const byId = new Map<string, Stored>();
  let available = true;
  const ensureAvailable = (): void => {
    if (!available) throw new MonkError('RUNTIME_UNAVAILABLE', 'the memory image store is down');
  };
  const find = (ref: string): Stored | undefined => {
    const normalized = normalizeImage(ref);
    for (const image of byId.values()) {
      if (image.id === ref || image.tags.has(normalized)) return image;
    }
    return undefined;
  };
  const toInfo = (image: Stored): ImageInfo => ({
    id: image.id,
    repoTags: [...image.tags].sort(),
    sizeBytes: image.sizeBytes,
  });
  const add = (image: { ref: string; id?: string; sizeBytes?: number }): ImageInfo => {
    const ref = normalizeImage(image.ref);
    const id = image.id ?? `sha256:${createHash('sha256').update(ref).digest('hex')}`;
    for (const other of byId.values()) other.tags.delete(ref);
    const stored = byId.get(id) ?? { id, sizeBytes: image.sizeBytes ?? 1_000_000, tags: new Set<string>() };
    stored.tags.add(ref);
    byId.set(id, stored);
    return toInfo(stored);
  };
  for (const image of options.images ?? []) add(image);

  return {
    async inspectImage(ref) {
      ensureAvailable();
      const image = find(ref);
      return image === undefined ? undefined : toInfo(image);
    },
    async listImages() {
      ensureAvailable();
      return [...byId.values()].map(toInfo);
    },
    async *exportImage(ref, exportOptions = {}) {
      ensureAvailable();
      const image = find(ref);
      if (image === undefined) throw new MonkError('IMAGE_NOT_FOUND', `No such image: ${ref}`);
      if (exportOptions.signal?.aborted === true)
        throw new MonkError('CANCELLED', `save of ${ref} was cancelled`);
      // Like `docker save`: the tag asked for travels, an image saved by ID travels untagged.
      const repoTags = ref === image.id ? [] : [normalizeImage(ref)];
      const bytes = new TextEncoder().encode(JSON.stringify({ ...toInfo(image), repoTags }));
      // Two chunks, so that readers see a stream rather than one message.
      const half = Math.floor(bytes.length / 2);
      yield bytes.subarray(0, half);
      yield bytes.subarray(half);
    },
    async importImage(archive) {
      ensureAvailable();
      const chunks: Uint8Array[] = [];
      for await (const chunk of archive) chunks.push(chunk);
      let parsed: Partial<ImageInfo>;
      try {
        parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<ImageInfo>;
      } catch (error) {
        throw new MonkError('RUNTIME_ERROR', 'cannot load an image archive: not an archive', {
          cause: error,
        });
      }
      if (typeof parsed.id !== 'string' || !Array.isArray(parsed.repoTags)) {
        throw new MonkError('RUNTIME_ERROR', 'cannot load an image archive: not an archive');
      }
      const { id, repoTags } = parsed;
      const sizeBytes = parsed.sizeBytes ?? 0;
      for (const tag of repoTags as readonly string[]) add({ ref: tag, id, sizeBytes });
      if (repoTags.length === 0 && !byId.has(id)) byId.set(id, { id, sizeBytes, tags: new Set() });
      return { loaded: repoTags.length > 0 ? [...(repoTags as readonly string[])] : [id] };
    },
    async removeImage(ref) {
      ensureAvailable();
      const image = find(ref);
      if (image === undefined) throw new MonkError('IMAGE_NOT_FOUND', `No such image: ${ref}`);
      if (ref !== image.id && image.tags.size > 1) image.tags.delete(normalizeImage(ref));
      else byId.delete(image.id);
    },
    async pullImage(ref, pullOptions) {
      ensureAvailable();
      if (options.registry === undefined) {
        throw new MonkError('REGISTRY_UNAVAILABLE', `cannot pull image ${ref}: no registry answers`);
      }
      const served = await options.registry(ref, pullOptions);
      return add({ ref, ...served });
    },
    addImage: add,
    setAvailable(next) {
      available = next;
    },
  };
}

/** `busybox` and `busybox:latest` name the same image. */
function normalizeImage(ref: string): string {
  if (ref.includes('@') || ref.startsWith('sha256:')) return ref;
  const lastSlash = ref.lastIndexOf('/');
  return ref.slice(lastSlash + 1).includes(':') ? ref : `${ref}:latest`;
}
