import type { CommandRunner } from './command-runner.ts';

/** Whether this host can run the mesh, and with which WireGuard; when it cannot, why (for a log line). */
export type MeshSupport =
  | { readonly supported: true; readonly implementation: 'kernel' | 'userspace' }
  | { readonly supported: false; readonly reason: string };

/**
 * Finds out whether this host can run the WireGuard mesh: root (interfaces, routes and iptables need it),
 * `ip`, `iptables` and `wg` there, and WireGuard itself, the kernel module (loaded: `/sys/module/wireguard`)
 * or else `wireguard-go`. Runs only harmless commands (`--version`); never throws.
 *
 * @example
 * const support = await detectMeshSupport({ runner: createExecFileRunner(), uid: process.getuid?.(), exists });
 * if (!support.supported) logger.info(`mesh off: ${support.reason}`);
 */
export async function detectMeshSupport(components: {
  readonly runner: CommandRunner;
  /** The effective user id; undefined where there is none (Windows). */
  readonly uid: number | undefined;
  readonly exists: (path: string) => Promise<boolean>;
}): Promise<MeshSupport> {
  const { runner } = components;
  if (components.uid !== 0) return { supported: false, reason: 'monkd is not running as root' };
  const works = async (file: string, args: readonly string[]): Promise<boolean> =>
    runner.run({ file, args }).then(
      () => true,
      () => false,
    );
  for (const [file, args] of [
    ['ip', ['-V']],
    ['iptables', ['--version']],
    ['wg', ['--version']],
  ] as const) {
    if (!(await works(file, args))) return { supported: false, reason: `${file} is not installed` };
  }
  if (await components.exists('/sys/module/wireguard')) return { supported: true, implementation: 'kernel' };
  if (await works('wireguard-go', ['--version'])) return { supported: true, implementation: 'userspace' };
  return {
    supported: false,
    reason: 'neither the wireguard kernel module nor wireguard-go is available',
  };
}
