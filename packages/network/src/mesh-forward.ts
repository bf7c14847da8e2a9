import type { CommandRunner } from './command-runner.ts';

/** The iptables chain of monk's own that lets mesh traffic between the WireGuard interface and the bridge. */
export const meshForwardChain = 'MONK-MESH';

/** The links that forwarding is allowed between: this peer's WireGuard interface and its containers' bridge. */
export interface MeshForwardLinks {
  readonly wireguard: string;
  readonly bridge: string;
}

/** The rules of {@link meshForwardChain}, as `iptables -S` prints them. */
export function meshForwardRules(links: MeshForwardLinks): string[] {
  return [
    `-A ${meshForwardChain} -i ${links.wireguard} -o ${links.bridge} -j ACCEPT`,
    `-A ${meshForwardChain} -i ${links.bridge} -o ${links.wireguard} -j ACCEPT`,
  ];
}

const iptables = (runner: CommandRunner, args: readonly string[]): Promise<string> =>
  runner.run({ file: 'iptables', args: ['-w', ...args] });

const succeeds = (run: Promise<unknown>): Promise<boolean> =>
  run.then(
    () => true,
    () => false,
  );

/**
 * Lets containers of other peers reach this peer's containers: Docker's FORWARD chain drops what enters its
 * bridge from another interface (only published ports pass), so a chain of monk's own, jumped to first from
 * FORWARD, accepts traffic between the WireGuard interface and the bridge, both ways. Idempotent and
 * applies only differences (the chain is rewritten only when its rules differ, the jump put back only when
 * it is missing, as after Docker rewrote FORWARD), so it can run on every pass. Returns whether it changed
 * anything.
 *
 * @throws MonkError `NETWORK_ERROR` when iptables fails (not installed: the message names the package).
 */
export async function allowMeshForwarding(
  links: MeshForwardLinks,
  components: { readonly runner: CommandRunner },
): Promise<boolean> {
  const { runner } = components;
  let changed = false;
  const listed = await iptables(runner, ['-S', meshForwardChain]).catch(() => undefined);
  if (listed === undefined) {
    await iptables(runner, ['-N', meshForwardChain]);
    changed = true;
  }
  const current = (listed ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('-A '));
  const wanted = meshForwardRules(links);
  if (current.join('\n') !== wanted.join('\n')) {
    await iptables(runner, ['-F', meshForwardChain]);
    for (const rule of wanted) await iptables(runner, rule.split(' '));
    changed = true;
  }
  if (!(await succeeds(iptables(runner, ['-C', 'FORWARD', '-j', meshForwardChain])))) {
    await iptables(runner, ['-I', 'FORWARD', '1', '-j', meshForwardChain]);
    changed = true;
  }
  return changed;
}

/** Removes what {@link allowMeshForwarding} made: the jump from FORWARD and the chain. Missing parts are fine. */
export async function removeMeshForwarding(components: { readonly runner: CommandRunner }): Promise<void> {
  const { runner } = components;
  // Every jump goes, should there be more than one (bounded: a broken iptables must not spin forever).
  for (let i = 0; i < 8; i += 1) {
    if (!(await succeeds(iptables(runner, ['-D', 'FORWARD', '-j', meshForwardChain])))) break;
  }
  if (await succeeds(iptables(runner, ['-F', meshForwardChain]))) {
    await iptables(runner, ['-X', meshForwardChain]);
  }
}
