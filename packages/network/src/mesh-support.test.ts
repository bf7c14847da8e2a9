import { describe, expect, it } from 'vitest';
import { MonkError } from '@monk/model';
import type { CommandRunner } from './command-runner.ts';
import { detectMeshSupport } from './mesh-support.ts';

/** A host with these programs installed (each answers `--version`/`-V`) and these paths present. */
function host(options: { programs: readonly string[]; paths?: readonly string[]; uid?: number }) {
  const ran: string[] = [];
  const runner: CommandRunner = {
    async run(command) {
      ran.push([command.file, ...command.args].join(' '));
      if (!options.programs.includes(command.file)) throw new MonkError('NETWORK_ERROR', 'not found');
      return `${command.file} v1`;
    },
  };
  return {
    ran,
    detect: () =>
      detectMeshSupport({
        runner,
        uid: options.uid ?? 0,
        exists: async (path) => (options.paths ?? []).includes(path),
      }),
  };
}

const tools = ['ip', 'iptables', 'wg'];

describe('detectMeshSupport', () => {
  it('prefers the kernel module, else wireguard-go, running only version queries', async () => {
    const kernel = host({ programs: [...tools, 'wireguard-go'], paths: ['/sys/module/wireguard'] });
    expect(await kernel.detect()).toEqual({ supported: true, implementation: 'kernel' });
    const userspace = host({ programs: [...tools, 'wireguard-go'] });
    expect(await userspace.detect()).toEqual({ supported: true, implementation: 'userspace' });
    expect(userspace.ran).toEqual(['ip -V', 'iptables --version', 'wg --version', 'wireguard-go --version']);
  });

  it.each([
    [{ programs: [...tools, 'wireguard-go'], uid: 1000 }, 'monkd is not running as root'],
    [{ programs: ['ip', 'iptables', 'wireguard-go'] }, 'wg is not installed'],
    [{ programs: tools }, 'neither the wireguard kernel module nor wireguard-go is available'],
  ])('says why the mesh cannot run: %j', async (setup, reason) => {
    expect(await host(setup).detect()).toEqual({ supported: false, reason });
  });
});
