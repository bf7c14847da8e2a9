/** What the engine knows about one local image. */
export interface ImageInfo {
  /**
   * The content-addressed image ID (`sha256:…`, the digest of the image's config). A `docker save` loaded into
   * another engine keeps it, so two engines holding the same ID hold the same image.
   */
  readonly id: string;
  /** The names it is tagged with (`monk-local/busybox:latest`); empty for an untagged image. */
  readonly repoTags: readonly string[];
  /** Its size on disk, in bytes. */
  readonly sizeBytes: number;
}

/** Credentials for a registry, as `docker login` would send them. Never logged. */
export interface RegistryAuth {
  readonly username?: string;
  readonly password?: string;
  /** The registry host (`registry.example.com`); default the one named by the image reference. */
  readonly serverAddress?: string;
  readonly identityToken?: string;
}

export interface PullImageOptions {
  readonly auth?: RegistryAuth;
  /**
   * The whole pull fails with `REGISTRY_UNAVAILABLE` after this long (no registry answered in time). Required:
   * an engine with no route to a registry can wait for minutes.
   */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface ExportImageOptions {
  /** Aborting ends the stream with `CANCELLED`. */
  readonly signal?: AbortSignal;
}

/**
 * The images of one host's container engine, in monk's own types: what the cluster exchange needs to ship an
 * image from one peer to another. Every method throws {@link MonkError} only:
 * - `RUNTIME_UNAVAILABLE`: the engine does not answer;
 * - `IMAGE_NOT_FOUND`: no such image (export, remove), or a registry answered that it has none (pull);
 * - `REGISTRY_UNAVAILABLE`: a pull found no registry answering within its time;
 * - `RUNTIME_ERROR`: anything else the engine refused (a malformed archive given to `importImage`).
 *
 * Implementations: {@link createDockerImageStore} and {@link createMemoryImageStore}; both pass the same
 * compliance suite.
 *
 * @example
 * const from = createDockerImageStore({ socketPath: '/var/run/docker.sock' });
 * const to = createDockerImageStore({ socketPath: '/run/other/docker.sock' });
 * await to.importImage(from.exportImage('monk-local/busybox:latest'));
 * (await to.inspectImage('monk-local/busybox:latest'))?.id; // the same ID as on `from`
 */
export interface ImageStore {
  /** One image by reference or ID (`name` means `name:latest`); undefined when the engine lacks it. */
  inspectImage(ref: string): Promise<ImageInfo | undefined>;
  /** Every image of the engine, tagged or not (intermediate layers excluded). */
  listImages(): Promise<ImageInfo[]>;
  /**
   * The image as a `docker save` archive (a tar that keeps its tags and ID), streamed with backpressure.
   * Errors (`IMAGE_NOT_FOUND`) surface when iterating.
   */
  exportImage(ref: string, options?: ExportImageOptions): AsyncIterable<Uint8Array>;
  /**
   * Loads a `docker save` archive (`docker load`), reading `archive` only as fast as the engine takes it.
   * Resolves once the engine has it, with the references and IDs the engine reports loaded.
   */
  importImage(archive: AsyncIterable<Uint8Array>): Promise<{ readonly loaded: readonly string[] }>;
  /** Removes an image by reference or ID (untags it when other tags keep it). */
  removeImage(ref: string): Promise<void>;
  /** Pulls an image from its registry; resolves with what the engine then has. */
  pullImage(ref: string, options: PullImageOptions): Promise<ImageInfo>;
}
