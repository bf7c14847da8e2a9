import { describe, expect, it } from 'vitest';
import type { Command, CommandRunner } from './command-runner.ts';
import { allowMeshForwarding, meshForwardChain, removeMeshForwarding } from './mesh-forward.ts';

/** iptables' filter table of one host, in memory: chains of rules, as `iptables -S` prints them. */
function createFakeIptables(forward: readonly string[] = ['-A FORWARD -j DOCKER-USER']) {
  /** By `table:chain`. */
  const chains = new Map<string, string[]>([
    ['filter:FORWARD', [...forward]],
    ['nat:POSTROUTING', ['-A POSTROUTING -s 10.240.16.0/24 ! -o monk-mesh -j MASQUERADE']],
  ]);
  const commands: string[] = [];
  const fail = (): never => {
    throw new Error('iptables: No chain/target/match by that name.');
  };
  const runner: CommandRunner = {
    async run({ file, args }: Command) {
      commands.push([file, ...args].join(' '));
      const [, , table = '', op, chain = '', ...rest] = args;
      const key = `${table}:${chain}`;
      const rule = `-A ${chain} ${rest.join(' ')}`;
      const rules = chains.get(key);
      switch (op) {
        case '-S':
          return rules === undefined ? fail() : [`-N ${chain}`, ...rules].join('\n') + '\n';
        case '-N':
          if (rules !== undefined) fail();
          chains.set(key, []);
          return '';
        case '-F':
          if (rules === undefined) fail();
          chains.set(key, []);
          return '';
        case '-X':
          chains.delete(key);
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
    expect(host.chains.get(`filter:${meshForwardChain}`)).toEqual([
      '-A MONK-MESH -i mwg0123456789ab -o monk-mesh -j ACCEPT',
      '-A MONK-MESH -i monk-mesh -o mwg0123456789ab -j ACCEPT',
    ]);
    expect(host.chains.get('filter:FORWARD')).toEqual([
      '-A FORWARD -j MONK-MESH',
      '-A FORWARD -j DOCKER-USER',
    ]);
    // What goes into the mesh is not masqueraded: containers see each other's addresses.
    expect(host.chains.get(`nat:${meshForwardChain}`)).toEqual(['-A MONK-MESH -o mwg0123456789ab -j ACCEPT']);
    expect(host.chains.get('nat:POSTROUTING')?.[0]).toBe('-A POSTROUTING -j MONK-MESH');
  });

  it('changes nothing when in place, and puts back only a jump that went missing', async () => {
    const host = createFakeIptables();
    await allowMeshForwarding(links, host);
    host.commands.length = 0;
    expect(await allowMeshForwarding(links, host)).toBe(false);
    expect(host.commands.filter((c) => !c.includes(' -S ') && !c.includes(' -C '))).toEqual([]);
    host.chains.set('filter:FORWARD', ['-A FORWARD -j DOCKER-USER']);
    expect(await allowMeshForwarding(links, host)).toBe(true);
    expect(host.chains.get('filter:FORWARD')).toEqual([
      '-A FORWARD -j MONK-MESH',
      '-A FORWARD -j DOCKER-USER',
    ]);
    expect(host.chains.get(`filter:${meshForwardChain}`)).toHaveLength(2);
  });

  it('rewrites the chain when the interface names change', async () => {
    const host = createFakeIptables();
    await allowMeshForwarding(links, host);
    await allowMeshForwarding({ ...links, bridge: 'br-other' }, host);
    expect(host.chains.get(`filter:${meshForwardChain}`)).toEqual([
      '-A MONK-MESH -i mwg0123456789ab -o br-other -j ACCEPT',
      '-A MONK-MESH -i br-other -o mwg0123456789ab -j ACCEPT',
    ]);
  });

  it('removes the jump and the chain, and is fine when they are gone', async () => {
    const host = createFakeIptables();
    await allowMeshForwarding(links, host);
    await removeMeshForwarding(host);
    expect(host.chains.has(`filter:${meshForwardChain}`)).toBe(false);
    expect(host.chains.has(`nat:${meshForwardChain}`)).toBe(false);
    expect(host.chains.get('nat:POSTROUTING')).toEqual([
      '-A POSTROUTING -s 10.240.16.0/24 ! -o monk-mesh -j MASQUERADE',
    ]);
    expect(host.chains.get('filter:FORWARD')).toEqual(['-A FORWARD -j DOCKER-USER']);
    await removeMeshForwarding(host);
    expect(host.chains.get('filter:FORWARD')).toEqual(['-A FORWARD -j DOCKER-USER']);
  });
});
