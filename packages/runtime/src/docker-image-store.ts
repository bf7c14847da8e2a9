import { Readable } from 'node:stream';
import { MonkError } from '@monk/model';
import { connectDocker, statusOf, translateError } from './docker-runtime.ts';
import type { ImageInfo, ImageStore, RegistryAuth } from './image-store.ts';
import { createLineSplitter } from './line-splitter.ts';

export interface DockerImageStoreOptions {
  /** The engine's unix socket. Default `/var/run/docker.sock`. */
  readonly socketPath?: string;
}

/**
 * Creates an {@link ImageStore} on the Docker engine behind a unix socket: inspect and list, `docker save`
 * (`GET /images/{name}/get`) as a stream, `docker load` (`POST /images/load`) from a stream, and pulls bounded by
 * a deadline. Nothing is contacted until the first call.
 *
 * @example
 * const images = createDockerImageStore({ socketPath: '/var/run/docker.sock' });
 * const info = await images.inspectImage('monk-local/busybox'); // undefined when missing
 */
export function createDockerImageStore(options: DockerImageStoreOptions = {}): ImageStore {
  const { docker, where, engine } = connectDocker(options.socketPath);

  const inspectImage = (ref: string): Promise<ImageInfo | undefined> =>
    engine(`inspect image ${ref}`, async () => {
      try {
        const inspected = await docker.getImage(ref).inspect();
        return { id: inspected.Id, repoTags: tagsOf(inspected.RepoTags), sizeBytes: inspected.Size };
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });

  return {
    inspectImage,

    listImages() {
      return engine('list images', async () =>
        (await docker.listImages()).map((image) => ({
          id: image.Id,
          repoTags: tagsOf(image.RepoTags),
          sizeBytes: image.Size,
        })),
      );
    },

    async *exportImage(ref, exportOptions = {}) {
      const what = `save image ${ref}`;
      if ((await inspectImage(ref)) === undefined) {
        throw new MonkError('IMAGE_NOT_FOUND', `cannot ${what}: no such image on the ${where}`);
      }
      let stream: NodeJS.ReadableStream | undefined;
      const onAbort = (): void => {
        (stream as Readable | undefined)?.destroy();
      };
      exportOptions.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        // `docker save app` would save every tag of the repository `app`: `name` means `name:latest`.
        stream = await docker.getImage(withTag(ref)).get();
        for await (const chunk of stream as Readable) yield chunk as Buffer;
      } catch (error) {
        if (exportOptions.signal?.aborted === true) {
          throw new MonkError('CANCELLED', `${what} was cancelled`, { cause: error });
        }
        throw translateError(error, { what, where, unavailable: true });
      } finally {
        exportOptions.signal?.removeEventListener('abort', onAbort);
        (stream as Readable | undefined)?.destroy();
      }
    },

    async importImage(archive) {
      const what = 'load an image archive';
      // docker-modem pipes the body into the request: a source that fails must also end the request.
      const controller = new AbortController();
      const body = Readable.from(archive, { objectMode: false });
      const source: { error?: Error } = {};
      body.on('error', (error) => {
        source.error = error;
        controller.abort();
      });
      try {
        const output = (await docker.loadImage(body, { abortSignal: controller.signal })) as Readable;
        const messages = await readJsonLines(output);
        if (source.error !== undefined) throw source.error;
        const failure = messages.find((m) => m.error !== undefined);
        if (failure !== undefined) {
          throw new MonkError('RUNTIME_ERROR', `cannot ${what}: ${failure.error ?? ''}`);
        }
        const loaded: string[] = [];
        for (const message of messages) {
          const match = /^Loaded image(?: ID)?: (.+)$/.exec((message.stream ?? '').trim());
          if (match?.[1] !== undefined) loaded.push(match[1]);
        }
        return { loaded };
      } catch (error) {
        const failed = source.error;
        if (failed !== undefined) {
          throw failed instanceof MonkError
            ? failed
            : new MonkError('RUNTIME_ERROR', `cannot ${what}: its source failed (${failed.message})`, {
                cause: failed,
              });
        }
        throw translateError(error, { what, where });
      } finally {
        body.destroy();
      }
    },

    async removeImage(ref) {
      await engine(`remove image ${ref}`, () => docker.getImage(ref).remove());
    },

    async pullImage(ref, pullOptions) {
      const what = `pull image ${ref}`;
      const signals = [AbortSignal.timeout(pullOptions.timeoutMs)];
      if (pullOptions.signal !== undefined) signals.push(pullOptions.signal);
      const signal = AbortSignal.any(signals);
      const { repository, tag } = splitReference(ref);
      const query = { fromImage: repository, tag, abortSignal: signal };
      let messages: { error?: string }[];
      try {
        const stream = (await (pullOptions.auth === undefined
          ? docker.createImage(query)
          : docker.createImage(toAuthConfig(pullOptions.auth), query))) as Readable;
        messages = await readJsonLines(stream);
      } catch (error) {
        if (pullOptions.signal?.aborted === true) {
          throw new MonkError('CANCELLED', `${what} was cancelled`, { cause: error });
        }
        if (signal.aborted) {
          throw new MonkError(
            'REGISTRY_UNAVAILABLE',
            `cannot ${what}: no registry answered within ${pullOptions.timeoutMs} ms`,
            { cause: error },
          );
        }
        throw translatePullError(error, { what, message: messageOf(error), where });
      }
      const failure = messages.find((m) => m.error !== undefined)?.error;
      if (failure !== undefined) throw translatePullError(undefined, { what, message: failure, where });
      const pulled = await inspectImage(ref);
      if (pulled === undefined) {
        throw new MonkError('IMAGE_NOT_FOUND', `cannot ${what}: the engine reports no image after the pull`);
      }
      return pulled;
    },
  };
}

function withTag(ref: string): string {
  if (ref.includes('@') || /^(sha256:)?[0-9a-f]{12,64}$/.test(ref)) return ref;
  return ref.lastIndexOf(':') > ref.lastIndexOf('/') ? ref : `${ref}:latest`;
}

function tagsOf(tags: readonly string[] | undefined): string[] {
  return (tags ?? []).filter((tag) => tag !== '<none>:<none>');
}

/** `registry:5000/team/app:1.2` → `registry:5000/team/app` and `1.2`; a digest stays on the repository. */
function splitReference(ref: string): { repository: string; tag: string } {
  if (ref.includes('@')) return { repository: ref, tag: '' };
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repository: ref, tag: 'latest' };
}

function toAuthConfig(auth: RegistryAuth): Record<string, string> {
  return {
    ...(auth.username === undefined ? {} : { username: auth.username }),
    ...(auth.password === undefined ? {} : { password: auth.password }),
    ...(auth.serverAddress === undefined ? {} : { serveraddress: auth.serverAddress }),
    ...(auth.identityToken === undefined ? {} : { identitytoken: auth.identityToken }),
  };
}

const unreachableRegistry =
  /no such host|dial tcp|i\/o timeout|connection refused|network is unreachable|TLS handshake|server misbehaving|context deadline exceeded|Client\.Timeout/i;
const missingImage = /not found|manifest unknown|pull access denied|repository does not exist|unauthorized/i;

function translatePullError(
  error: unknown,
  context: { what: string; message: string; where: string },
): MonkError {
  const options = error === undefined ? {} : { cause: error };
  if (unreachableRegistry.test(context.message)) {
    return new MonkError('REGISTRY_UNAVAILABLE', `cannot ${context.what}: ${context.message}`, options);
  }
  if (missingImage.test(context.message)) {
    return new MonkError('IMAGE_NOT_FOUND', `cannot ${context.what}: ${context.message}`, options);
  }
  if (error !== undefined) return translateError(error, { what: context.what, where: context.where });
  return new MonkError('RUNTIME_ERROR', `cannot ${context.what}: ${context.message}`);
}

function messageOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return typeof error === 'string' ? error : 'unknown error';
  const json = (error as { json?: unknown }).json;
  if (typeof json === 'object' && json !== null && 'message' in json) {
    const message = (json as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return error instanceof Error ? error.message : 'unknown error';
}

/** The engine's progress output: one JSON object a line, `error` set on failure. */
async function readJsonLines(stream: Readable): Promise<{ stream?: string; error?: string }[]> {
  const lines = createLineSplitter();
  const messages: { stream?: string; error?: string }[] = [];
  const parse = (line: string): void => {
    if (line.trim() === '') return;
    try {
      const parsed = JSON.parse(line) as { stream?: unknown; error?: unknown };
      messages.push({
        ...(typeof parsed.stream === 'string' ? { stream: parsed.stream } : {}),
        ...(typeof parsed.error === 'string' ? { error: parsed.error } : {}),
      });
    } catch {
      messages.push({ stream: line });
    }
  };
  for await (const chunk of stream) for (const line of lines.push(chunk as Buffer)) parse(line);
  for (const line of lines.flush()) parse(line);
  return messages;
}
