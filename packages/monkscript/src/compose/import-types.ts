/** Reads files the Compose file refers to (`env_file`, `extends.file`, secret and config `file:`, `.env`). */
export interface ComposeFileSource {
  /** The text of the file. Rejects when it cannot be read. */
  readFile(path: string): Promise<string>;
  exists(path: string): Promise<boolean>;
}

/**
 * A secret value read from a Compose secret's `file:` or `environment:` source. The imported runnables
 * refer to it as `secret("<name>")`; the caller stores it in monk's secret store under `name`.
 */
export interface ComposeSecret {
  readonly name: string;
  readonly value: string;
  /** Where it was read from: a file path or `environment:VAR`. */
  readonly source: string;
}
