import { describe, expect, it } from 'vitest';
import type { PeerRecord } from '@monk/model';
import type { DnsServer, DnsServerOptions } from '@monk/network';
import { createLogger } from '../logger.ts';
import { createMemoryRuntime } from '@monk/runtime';
import { createMeshDns, leaveOldMeshSubnet, meshNetworkOf } from './mesh-lan.ts';

const logger = createLogger({ level: 'error', write: () => undefined });

const record = (id: string, subnet?: string): PeerRecord => ({
  id,
  name: id,
  role: 'peer',
  tags: [],
  addresses: [],
  joinedAt: '2026-12-02T10:00:00.000Z',
  ...(subnet === undefined
    ? {}
    : { wireguard: { publicKey: `${id}-key`, overlayAddress: '10.240.0.16', subnet } }),
});

describe('meshNetworkOf', () => {
  it("is the peer's own subnet, gateway and DNS its first address, once its record has one", () => {
    expect(meshNetworkOf([record('a', '10.240.16.0/24'), record('b', '10.240.17.0/24')], 'a')).toEqual({
      name: 'monk-mesh',
      ipv4: { subnet: '10.240.16.0/24', gateway: '10.240.16.1' },
      bridgeName: 'monk-mesh',
      dns: ['10.240.16.1'],
    });
    expect(meshNetworkOf([record('a'), record('b', '10.240.17.0/24')], 'a')).toBeUndefined();
  });
});

describe('createMeshDns', () => {
  function fakeStarts(failFirst: boolean) {
    const listening = new Set<string>();
    let fail = failFirst;
    const start = async (options: DnsServerOptions): Promise<DnsServer> => {
      const host = options.host ?? '';
      if (fail) {
        fail = false;
        throw new Error('EADDRNOTAVAIL');
      }
      listening.add(host);
      return {
        address: () => ({ host, port: 53 }),
        close: async () => {
          listening.delete(host);
        },
      };
    };
    return { start, listening };
  }

  it('listens on the gateway, tries again after a failed start, moves with the gateway, stops on close', async () => {
    const fake = fakeStarts(true);
    const dns = createMeshDns({}, { lookup: () => undefined, logger, start: fake.start });
    dns.update('10.240.16.1');
    await dns.settled();
    expect([...fake.listening]).toEqual([]);
    dns.update('10.240.16.1');
    await dns.settled();
    expect([...fake.listening]).toEqual(['10.240.16.1']);
    dns.update('10.240.20.1');
    await dns.settled();
    expect([...fake.listening]).toEqual(['10.240.20.1']);
    await dns.close();
    expect([...fake.listening]).toEqual([]);
  });
});

describe('leaveOldMeshSubnet', () => {
  const spec = {
    image: 'busybox',
    environment: {},
    ports: [],
    mounts: [],
    files: [],
    labels: {},
  };

  it('removes our containers left on the old subnet (not another peer’s, not on the current subnet)', async () => {
    let next = 2;
    const runtime = createMemoryRuntime({
      images: ['busybox'],
      ipAddress: () => `10.240.16.${next++}`,
    });
    const old = meshNetworkOf([record('a', '10.240.16.0/24')], 'a');
    const moved = meshNetworkOf([record('a', '10.240.17.0/24')], 'a');
    await runtime.ensureNetwork('monk-mesh', { ipv4: { subnet: '10.240.16.0/24', gateway: '10.240.16.1' } });
    const start = async (name: string, peer: string) => {
      const created = await runtime.createContainer({
        name,
        spec,
        labels: { 'monk.managed': 'true', 'monk.peer': peer },
        network: { name: 'monk-mesh', aliases: [] },
      });
      await runtime.startContainer(created.id);
    };
    await start('ours', 'a');
    await start('theirs', 'b');
    const lines: string[] = [];
    const logger = { info: (line: string) => lines.push(line) };
    // On the subnet it has: nothing to do.
    expect(await leaveOldMeshSubnet({ peerId: 'a', network: old }, { runtime, logger })).toEqual([]);
    expect(await leaveOldMeshSubnet({ peerId: 'a', network: moved }, { runtime, logger })).toEqual(['ours']);
    expect((await runtime.listContainers({ all: true })).map((c) => c.name)).toEqual(['theirs']);
    expect(lines).toEqual([
      'mesh subnet moved to 10.240.17.0/24: removed ours (10.240.16.2) to create it there',
    ]);
  });

  it('does nothing while this peer has no subnet', async () => {
    const runtime = createMemoryRuntime({ images: [] });
    expect(
      await leaveOldMeshSubnet(
        { peerId: 'a', network: undefined },
        { runtime, logger: { info: () => undefined } },
      ),
    ).toEqual([]);
  });
});
