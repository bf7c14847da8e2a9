import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNamespacePair, eventually, type TestHost } from './namespace-pair.ts';

const root = process.getuid?.() === 0;

const pings = (from: TestHost, to: string): Promise<boolean> =>
  from.exec('ping', ['-c', '1', '-W', '1', to]).then(
    () => true,
    () => false,
  );

describe.skipIf(!root)(
  'WireGuard between two network namespaces (needs root: ip netns, wireguard-go)',
  () => {
    it('carries pings between overlay addresses and subnets, encrypted on the wire; a removed peer loses its route', async () => {
      await using pair = await createNamespacePair('it');
      const { a, b } = pair;
      const dir = await mkdtemp(join(tmpdir(), 'monk-mesh-capture-'));
      try {
        const capture = join(dir, 'underlay.pcap');
        const tcpdump = a.spawn('tcpdump', [
          '-i',
          a.veth,
          '-n',
          '--immediate-mode',
          '-U',
          '-Z',
          'root',
          '-w',
          capture,
        ]);
        let tcpdumpSaid = '';
        tcpdump.stderr?.on('data', (chunk: Buffer) => (tcpdumpSaid += chunk.toString()));
        expect(await eventually(async () => tcpdumpSaid.includes('listening on'))).toBe(true);

        // A payload pattern that would show in the capture if the ICMP travelled in the clear.
        const pattern = Buffer.from('monk-plaintext!').toString('hex');
        expect(await eventually(() => pings(a, b.peer.overlayAddress))).toBe(true);
        await b.exec('ping', ['-c', '3', '-i', '0.2', '-p', pattern, a.peer.overlayAddress]);
        await a.exec('ping', ['-c', '3', '-i', '0.2', '-p', pattern, b.subnetAddress]);
        expect(await pings(b, a.subnetAddress)).toBe(true);
        // Sanity: the same pattern in the clear over the underlay is visible to the capture.
        await a.exec('ping', ['-c', '1', '-p', pattern, b.underlayAddress]);

        const peersOfA = await a.wireguard.listPeers();
        expect(peersOfA).toEqual([
          expect.objectContaining({
            publicKey: b.peer.publicKey,
            endpoint: b.peer.endpoint,
            keepaliveSeconds: 25,
          }),
        ]);
        expect(peersOfA[0]?.allowedIps.toSorted()).toEqual([`${b.peer.overlayAddress}/32`, b.peer.subnet]);
        expect(peersOfA[0]?.latestHandshake).toBeGreaterThan(0);

        tcpdump.kill('SIGTERM');
        await new Promise((resolve) => tcpdump.once('exit', resolve));
        const { stdout } = await a.exec('tcpdump', ['-r', capture, '-n', '-q']);
        const packets = stdout.split('\n').filter((l) => l.trim() !== '');
        const tunnelled = packets.filter((l) =>
          /192\.168\.243\.\d\.51820 > 192\.168\.243\.\d\.51820: UDP/.test(l),
        );
        const plainIcmp = packets.filter((l) => l.includes('ICMP'));
        // Only WireGuard UDP between the two WireGuard ports, besides the one clear ping and ARP.
        expect(tunnelled.length).toBeGreaterThanOrEqual(10);
        expect(
          plainIcmp.every(
            (l) => l.includes(`> ${b.underlayAddress}`) || l.includes(`${b.underlayAddress} >`),
          ),
        ).toBe(true);
        expect(
          packets.filter((l) => !tunnelled.includes(l) && !plainIcmp.includes(l) && !l.includes('ARP')),
        ).toEqual([]);
        expect(plainIcmp.some((l) => l.includes('10.240.'))).toBe(false);
        // The payload is only readable in the clear ping, never in the tunnelled ones.
        const raw = await readFile(capture);
        const marker = Buffer.from('monk-plaintext!');
        let seen = 0;
        for (let at = raw.indexOf(marker); at >= 0; at = raw.indexOf(marker, at + 1)) seen += 1;
        // One clear echo request and its reply, each holding the pattern about 3 times (56-byte payload).
        expect(seen).toBeGreaterThan(0);
        expect(seen).toBeLessThanOrEqual(8);

        // Removing B from A's mesh removes its peer and both routes, and the tunnel stops carrying traffic.
        const steps = await a.wireguard.syncPeers([]);
        expect(steps.map((s) => s.kind).sort()).toEqual(['delete-route', 'delete-route', 'remove-peer']);
        expect(await a.wireguard.listPeers()).toEqual([]);
        expect(await a.wireguard.listRoutes()).toEqual([]);
        const { stdout: routes } = await a.exec('ip', ['route', 'show']);
        expect(routes).not.toContain('10.240.');
        expect(await pings(a, b.peer.overlayAddress)).toBe(false);

        // Idempotent both ways: syncing the same set again changes nothing; destroy twice is fine.
        expect(await a.wireguard.syncPeers([])).toEqual([]);
        await a.wireguard.destroy();
        await a.wireguard.destroy();
        expect(await a.wireguard.exists()).toBe(false);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  },
);
