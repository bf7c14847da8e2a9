import { MonkError } from '@monk/model';
import { afterEach, describe, expect, it } from 'vitest';
import type { ImageInfo, ImageStore } from './image-store.ts';

export interface ImageStoreComplianceOptions {
  /** Appended to every test name, e.g. ` (needs Docker)`. */
  readonly requirement?: string;
  readonly store: ImageStore;
  /** Creates an image with a unique ID under `ref` in the store. */
  readonly seed: (ref: string) => Promise<ImageInfo>;
  /** A prefix for the references the suite creates (each test adds a unique name). */
  readonly refPrefix: string;
}

const code = (value: string) => (error: unknown) => error instanceof MonkError && error.code === value;

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const all: Uint8Array[] = [];
  for await (const chunk of chunks) all.push(chunk);
  return all;
}

async function* replay(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}

/**
 * Defines the vitest suite every {@link ImageStore} must pass: an image saved, removed and loaded again comes
 * back with the same ID and tags (what the cluster exchange relies on), and failures carry their codes.
 */
export function describeImageStoreCompliance(name: string, options: ImageStoreComplianceOptions): void {
  const needs = options.requirement ?? '';
  const { store } = options;
  let counter = 0;
  const created: string[] = [];
  const uniqueRef = (): string => {
    counter += 1;
    const ref = `${options.refPrefix}-${String(process.pid)}-${String(counter)}:1`;
    created.push(ref);
    return ref;
  };

  describe(`image store compliance: ${name}`, () => {
    afterEach(async () => {
      for (const ref of created.splice(0)) {
        await store.removeImage(ref).catch((error: unknown) => {
          if (!code('IMAGE_NOT_FOUND')(error)) throw error;
        });
      }
    });

    it(`inspects an image by reference and ID, and reports a missing one as undefined${needs}`, async () => {
      const ref = uniqueRef();
      expect(await store.inspectImage(ref)).toBeUndefined();
      const seeded = await options.seed(ref);
      const inspected = await store.inspectImage(ref);
      expect(inspected).toMatchObject({ id: seeded.id, repoTags: [ref] });
      expect(inspected?.id).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect((await store.inspectImage(seeded.id))?.id).toBe(seeded.id);
      expect((await store.listImages()).map((image) => image.id)).toContain(seeded.id);
    });

    it(`loads a saved image back with the same ID and tags${needs}`, async () => {
      const ref = uniqueRef();
      const seeded = await options.seed(ref);
      const archive = await collect(store.exportImage(ref));
      expect(archive.length).toBeGreaterThan(0);
      await store.removeImage(ref);
      expect(await store.inspectImage(ref)).toBeUndefined();
      const { loaded } = await store.importImage(replay(archive));
      expect(loaded).toContain(ref);
      expect(await store.inspectImage(ref)).toMatchObject({ id: seeded.id, repoTags: [ref] });
    });

    it(`saves only the named tag: a name without one means name:latest${needs}`, async () => {
      const ref = uniqueRef();
      const name = ref.slice(0, ref.lastIndexOf(':'));
      const latest = `${name}:latest`;
      created.push(latest);
      const seeded = await options.seed(ref);
      const other = await options.seed(latest);
      const archive = await collect(store.exportImage(name));
      await store.removeImage(ref);
      await store.removeImage(latest);
      const { loaded } = await store.importImage(replay(archive));
      expect(loaded).toEqual([latest]);
      expect(await store.inspectImage(ref)).toBeUndefined();
      expect((await store.inspectImage(latest))?.id).toBe(other.id);
      expect(other.id).not.toBe(seeded.id);
    });

    it(`fails with IMAGE_NOT_FOUND to save or remove a missing image${needs}`, async () => {
      const ref = uniqueRef();
      await expect(collect(store.exportImage(ref))).rejects.toSatisfy(code('IMAGE_NOT_FOUND'));
      await expect(store.removeImage(ref)).rejects.toSatisfy(code('IMAGE_NOT_FOUND'));
    });

    it(`refuses an archive that is not one with RUNTIME_ERROR${needs}`, async () => {
      const garbage = new TextEncoder().encode('this is not an image archive');
      await expect(store.importImage(replay([garbage]))).rejects.toSatisfy(code('RUNTIME_ERROR'));
    });

    it(`fails a pull with REGISTRY_UNAVAILABLE when no registry answers${needs}`, async () => {
      const ref = `registry.monk.invalid/${options.refPrefix}:1`;
      await expect(store.pullImage(ref, { timeoutMs: 5_000 })).rejects.toSatisfy(
        code('REGISTRY_UNAVAILABLE'),
      );
    });

    it(`fails a load whose source fails, with the source's error${needs}`, async () => {
      async function* broken(): AsyncGenerator<Uint8Array> {
        yield new Uint8Array(512);
        throw new MonkError('PEER_UNREACHABLE', 'the peer went away mid-transfer');
      }
      await expect(store.importImage(broken())).rejects.toSatisfy(code('PEER_UNREACHABLE'));
    });
  });
}
