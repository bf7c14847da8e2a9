/**
 * The logger a node writes to: structured fields, never secrets (no keys, no tokens). monkd passes its own;
 * the default discards everything.
 */
export interface P2PLogger {
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

export const silentLogger: P2PLogger = {
  debug: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
