import { describe, expect, it } from 'vitest';
import type { Command, CommandRunner } from './command-runner.ts';
import { allowMeshForwarding, meshForwardChain, removeMeshForwarding } from './mesh-forward.ts';

/** iptables' filter table of one host, in memory: chains of rules, as `iptables -S` prints them. */
function createFakeIptables(forward: readonly string[] = ['-A FORWARD -j DOCKER-USER']) {
  const chains = new Map<string, string[]>([['FORWARD', [...forward]]]);
  const commands: string[] = [];
  const fail = (): never => {
    throw new Error('iptables: No chain/target/match by that name.');
  };
  const runner: CommandRunner = {
    async run({ file, args }: Command) {
      commands.push([file, ...args].join(' '));
      const [, op, chain = '', ...rest] = args;
      const rule = `-A ${chain} ${rest.join(' ')}`;
      const rules = chains.get(chain);
      switch (op) {
        case '-S':
          return rules === undefined ? fail() : [`-N ${chain}`, ...rules].join('\n') + '\n';
        case '-N':
          if (rules !== undefined) fail();
          chains.set(chain, []);
          return '';
        case '-F':
          if (rules === undefined) fail();
          chains.set(chain, []);
          return '';
        case '-X':
          chains.delete(chain);
          return '';
        case '-A':
          (rules ?? fail()).push(rule);
          return '';
        case '-I':
          (rules ?? fail()).splice(Number(rest[0]) - 1, 0, `-A ${chain} ${rest.slice(1).join(' ')}`);
          return '';
        case '-C':
          return (rules ?? fail()).includes(rule) ? '' : fail();
        case '-D': {
          const index = (rules ?? fail()).indexOf(rule);
          if (index < 0) fail();
          rules?.splice(index, 1);
          return '';
        }
        case undefined:
        default:
          throw new Error(`unexpected iptables ${args.join(' ')}`);
      }
    },
  };
  return { runner, chains, commands };
}

const links = { wireguard: 'mwg0123456789ab', bridge: 'monk-mesh' };

describe('mesh forwarding', () => {
  it('accepts traffic between the WireGuard interface and the bridge, jumped to first from FORWARD', async () => {
    const host = createFakeIptables();
    expect(await allowMeshForwarding(links, host)).toBe(true);
    expect(host.chains.get(meshForwardChain)).toEqual([
      '-A MONK-MESH -i mwg0123456789ab -o monk-mesh -j ACCEPT',
      '-A MONK-MESH -i monk-mesh -o mwg0123456789ab -j ACCEPT',
    ]);
    expect(host.chains.get('FORWARD')).toEqual(['-A FORWARD -j MONK-MESH', '-A FORWARD -j DOCKER-USER']);
  });

  it('changes nothing when in place, and puts back only a jump that went missing', async () => {
    const host = createFakeIptables();
    await allowMeshForwarding(links, host);
    host.commands.length = 0;
    expect(await allowMeshForwarding(links, host)).toBe(false);
    expect(host.commands.filter((c) => !c.includes(' -S ') && !c.includes(' -C '))).toEqual([]);
    host.chains.set('FORWARD', ['-A FORWARD -j DOCKER-USER']);
    expect(await allowMeshForwarding(links, host)).toBe(true);
    expect(host.chains.get('FORWARD')).toEqual(['-A FORWARD -j MONK-MESH', '-A FORWARD -j DOCKER-USER']);
    expect(host.chains.get(meshForwardChain)).toHaveLength(2);
  });

  it('rewrites the chain when the interface names change', async () => {
    const host = createFakeIptables();
    await allowMeshForwarding(links, host);
    await allowMeshForwarding({ ...links, bridge: 'br-other' }, host);
    expect(host.chains.get(meshForwardChain)).toEqual([
      '-A MONK-MESH -i mwg0123456789ab -o br-other -j ACCEPT',
      '-A MONK-MESH -i br-other -o mwg0123456789ab -j ACCEPT',
    ]);
  });

  it('removes the jump and the chain, and is fine when they are gone', async () => {
    const host = createFakeIptables();
    await allowMeshForwarding(links, host);
    await removeMeshForwarding(host);
    expect(host.chains.has(meshForwardChain)).toBe(false);
    expect(host.chains.get('FORWARD')).toEqual(['-A FORWARD -j DOCKER-USER']);
    await removeMeshForwarding(host);
    expect(host.chains.get('FORWARD')).toEqual(['-A FORWARD -j DOCKER-USER']);
  });
});
