import { MonkError } from '@monk/model';

/**
 * An image a kit builds (MANIFEST `IMAGE name:tag …`): the image name and the rest of the line as written
 * (build folder, context, Dockerfile in the kits seen so far).
 */
export interface ManifestImage {
  readonly name: string;
  readonly args: readonly string[];
}

/**
 * A kit's MANIFEST: which files to load and what the kit needs. Paths are as written (relative to the
 * MANIFEST's folder).
 */
export interface Manifest {
  readonly file: string;
  readonly repo?: string;
  /** YAML files to load, in order (`LOAD a.yaml b.yaml`, several `LOAD` lines allowed). */
  readonly load: readonly string[];
  /** Sub-folders that hold their own MANIFEST (`DIRS`/`DIR`). */
  readonly dirs: readonly string[];
  /** Files embedded with `<<<` or shipped with the kit (`RESOURCES`). */
  readonly resources: readonly string[];
  /** The template `monk run` starts by default (`ENTRY`). */
  readonly entry?: string;
  /** Secrets the kit expects (`SECRET`). */
  readonly secrets: readonly string[];
  /** Environment entries (`ENV NAME=value`). */
  readonly env: readonly string[];
  readonly images: readonly ManifestImage[];
  readonly blobs: readonly string[];
  /** Any other upper-case keyword line (`NAME`, `DESCRIPTION`, `TAGS`…), keyword → rest of the line. */
  readonly metadata: Readonly<Record<string, string>>;
}

const keyword = /^[A-Z][A-Z0-9_-]*$/;

/**
 * Parses a MANIFEST: one `KEYWORD arguments…` per line, blank lines and `#` comments ignored. Unknown
 * upper-case keywords are kept as metadata. Throws `MANIFEST_INVALID` naming the line for anything else
 * (a line that does not start with a keyword, a keyword missing its arguments, two `ENTRY` lines).
 *
 * @example
 * parseManifest({ file: 'kit/MANIFEST', text: 'REPO kit\nLOAD a.yaml b.yaml' }).load; // ['a.yaml', 'b.yaml']
 */
export function parseManifest(options: { file: string; text: string }): Manifest {
  const { file, text } = options;
  const load: string[] = [];
  const dirs: string[] = [];
  const resources: string[] = [];
  const secrets: string[] = [];
  const env: string[] = [];
  const images: ManifestImage[] = [];
  const blobs: string[] = [];
  const metadata: Record<string, string> = {};
  let repo: string | undefined;
  let entry: string | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [word = '', ...args] = line.split(/\s+/);
    const invalid = (message: string): MonkError =>
      new MonkError('MANIFEST_INVALID', `${file}:${index + 1}: ${message}`, {
        location: { file, line: index + 1, column: 1, path: word },
      });
    if (!keyword.test(word))
      throw invalid(`expected a keyword such as LOAD or DIRS, found "${word.slice(0, 40)}"`);
    const needArgs = (): void => {
      if (args.length === 0) throw invalid(`${word} needs at least one argument`);
    };
    switch (word) {
      case 'REPO':
        needArgs();
        repo = args.join(' ');
        return;
      case 'LOAD':
        needArgs();
        load.push(...args);
        return;
      case 'DIRS':
      case 'DIR':
        needArgs();
        dirs.push(...args);
        return;
      case 'RESOURCES':
        needArgs();
        resources.push(...args);
        return;
      case 'ENTRY':
        needArgs();
        if (entry !== undefined) throw invalid('ENTRY given twice');
        if (args.length !== 1) throw invalid('ENTRY takes one template path');
        entry = args[0];
        return;
      case 'SECRET':
        needArgs();
        secrets.push(...args);
        return;
      case 'ENV':
        needArgs();
        env.push(...args);
        return;
      case 'IMAGE': {
        needArgs();
        const [name = '', ...rest] = args;
        images.push({ name, args: rest });
        return;
      }
      case 'BLOBS':
        needArgs();
        blobs.push(...args);
        return;
      default:
        metadata[word] = args.join(' ');
    }
  });
  for (const path of [...load, ...dirs, ...resources]) {
    if (path.includes('\0')) throw new MonkError('MANIFEST_INVALID', `${file}: invalid path "${path}"`);
  }
  return {
    file,
    ...(repo === undefined ? {} : { repo }),
    load,
    dirs,
    resources,
    ...(entry === undefined ? {} : { entry }),
    secrets,
    env,
    images,
    blobs,
    metadata,
  };
}
