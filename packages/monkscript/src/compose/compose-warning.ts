/**
 * Something in a Compose file that monk imported differently from Compose, or not at all. `key` is the
 * Compose key path (`sysctls`, `deploy.placement`, `networks.dns-net.ipv4_address`), relative to the
 * service when `service` is set, else to the file's top level.
 */
export interface ComposeWarning {
  readonly service?: string;
  readonly key: string;
  readonly message: string;
}

/** Collects warnings, each distinct one once, in the order they were first raised. */
export class WarningSink {
  readonly #seen = new Set<string>();
  readonly list: ComposeWarning[] = [];

  /** Adds the warning unless one with the same `id` (by default: service, key and message) came before. */
  warn(
    warning: ComposeWarning,
    id = `${warning.service ?? ''}\u0000${warning.key}\u0000${warning.message}`,
  ): void {
    if (this.#seen.has(id)) return;
    this.#seen.add(id);
    this.list.push(warning);
  }
}
