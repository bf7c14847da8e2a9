import type { CommandRunner } from './command-runner.ts';

/** The iptables chain of monk's own that lets mesh traffic between the WireGuard interface and the bridge. */
export const meshForwardChain = 'MONK-MESH';

/** The links that forwarding is allowed between: this peer's WireGuard interface and its containers' bridge. */
export interface MeshForwardLinks {
  readonly wireguard: string;
  readonly bridge: string;
}

/** The rules of {@link meshForwardChain} in the filter table, as `iptables -S` prints them. */
export function meshForwardRules(links: MeshForwardLinks): string[] {
  return [
    `-A ${meshForwardChain} -i ${links.wireguard} -o ${links.bridge} -j ACCEPT`,
    `-A ${meshForwardChain} -i ${links.bridge} -o ${links.wireguard} -j ACCEPT`,
  ];
}

/**
 * The rules of {@link meshForwardChain} in the nat table: what leaves through the WireGuard interface keeps
 * its container's address (Docker would masquerade it as the overlay address), so a server sees which
 * container asked, and answers route back through the mesh to that container's subnet. (ACCEPT, not RETURN:
 * in the nat table it ends the table's rules for the packet, Docker's MASQUERADE included.)
 */
export function meshNatRules(links: MeshForwardLinks): string[] {
  return [`-A ${meshForwardChain} -o ${links.wireguard} -j ACCEPT`];
}

interface Hook {
  readonly table: 'filter' | 'nat';
  readonly from: string;
}
const hooks: readonly Hook[] = [
  { table: 'filter', from: 'FORWARD' },
  { table: 'nat', from: 'POSTROUTING' },
];

const iptables = (runner: CommandRunner, table: string, args: readonly string[]): Promise<string> =>
  runner.run({ file: 'iptables', args: ['-w', '-t', table, ...args] });

const succeeds = (run: Promise<unknown>): Promise<boolean> =>
  run.then(
    () => true,
    () => false,
  );

/** Makes the chain hold exactly these rules and be jumped to first from the hook; returns whether it changed. */
async function ensureChain(runner: CommandRunner, hook: Hook, wanted: readonly string[]): Promise<boolean> {
  let changed = false;
  const listed = await iptables(runner, hook.table, ['-S', meshForwardChain]).catch(() => undefined);
  if (listed === undefined) {
    await iptables(runner, hook.table, ['-N', meshForwardChain]);
    changed = true;
  }
  const current = (listed ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('-A '));
  if (current.join('\n') !== wanted.join('\n')) {
    await iptables(runner, hook.table, ['-F', meshForwardChain]);
    for (const rule of wanted) await iptables(runner, hook.table, rule.split(' '));
    changed = true;
  }
  if (!(await succeeds(iptables(runner, hook.table, ['-C', hook.from, '-j', meshForwardChain])))) {
    await iptables(runner, hook.table, ['-I', hook.from, '1', '-j', meshForwardChain]);
    changed = true;
  }
  return changed;
}

/**
 * Lets containers of other peers reach this peer's containers: Docker's FORWARD chain drops what enters its
 * bridge from another interface (only published ports pass), so a chain of monk's own, jumped to first from
 * FORWARD, accepts traffic between the WireGuard interface and the bridge, both ways; and one of the same
 * name in the nat table, jumped to first from POSTROUTING, keeps Docker from masquerading what goes into
 * the mesh (see {@link meshNatRules}). Idempotent and applies only differences (a chain is rewritten only
 * when its rules differ, a jump put back only when it is missing, as after Docker rewrote its chains), so
 * it can run on every pass. Returns whether it changed anything.
 *
 * @throws MonkError `NETWORK_ERROR` when iptables fails (not installed: the message names the package).
 */
export async function allowMeshForwarding(
  links: MeshForwardLinks,
  components: { readonly runner: CommandRunner },
): Promise<boolean> {
  const filter = await ensureChain(components.runner, hooks[0] as Hook, meshForwardRules(links));
  const nat = await ensureChain(components.runner, hooks[1] as Hook, meshNatRules(links));
  return filter || nat;
}

/** Removes what {@link allowMeshForwarding} made: the jumps and the chains. Missing parts are fine. */
export async function removeMeshForwarding(components: { readonly runner: CommandRunner }): Promise<void> {
  const { runner } = components;
  for (const hook of hooks) {
    // Every jump goes, should there be more than one (bounded: a broken iptables must not spin forever).
    for (let i = 0; i < 8; i += 1) {
      if (!(await succeeds(iptables(runner, hook.table, ['-D', hook.from, '-j', meshForwardChain])))) break;
    }
    if (await succeeds(iptables(runner, hook.table, ['-F', meshForwardChain]))) {
      await iptables(runner, hook.table, ['-X', meshForwardChain]);
    }
  }
}
