import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wireguardInterfaceName } from '@monk/network';
import type { PeerEntry, PsEntry } from '@monk/sdk';
import { eventually } from '../harness.ts';
import { startLocalHosts, tracesOf, type LocalHost, type LocalHostsFixture } from '../local-hosts.ts';

const isRoot = process.getuid?.() === 0;
const run = promisify(execFile);
/** In the body the server sends: a capture of the request must never show it in plaintext. */
const marker = `monk-lan-marker-${randomBytes(6).toString('hex')}`;

const app = `namespace: lan
server:
  defines: runnable
  # B's monkd is stopped and restarted below: the server stays on B meanwhile (not moved by repair).
  recovery: {after: 10m}
  services:
    web: {container: httpd, port: 8080, protocol: tcp}
  containers:
    httpd:
      image: monk-local/busybox
      image-tag: latest
      bash: mkdir -p /www && echo ${marker} > /www/index.html && exec httpd -f -v -p 8080 -h /www
client:
  defines: runnable
  connections:
    server: {runnable: lan/server, service: web}
  variables:
    server-host:
      type: string
      value: <- connection-hostname("server")
      env: SERVER_HOST
    server-port:
      type: int
      value: <- connection-port("server")
      env: SERVER_PORT
    httpd-host:
      type: string
      value: <- get-hostname("server", "httpd")
      env: HTTPD_HOST
  containers:
    shell:
      image: monk-local/busybox
      image-tag: latest
      bash: exec sleep 100000
`;

describe.runIf(isRoot)(
  'workload LAN on three local hosts: server on B, client on C, by DNS name through WireGuard (needs root, Docker, iproute2, iptables, wireguard-go, tcpdump)',
  () => {
    let fixture: LocalHostsFixture;
    let b: LocalHost;
    let c: LocalHost;
    let dir: string;

    beforeAll(async () => {
      fixture = await startLocalHosts({ count: 3 });
      [, b, c] = fixture.hosts as [LocalHost, LocalHost, LocalHost];
      dir = await mkdtemp(join(tmpdir(), 'monk-lan-'));
    });
    afterAll(async () => {
      await fixture?.[Symbol.asyncDispose]();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    const clientContainer = async (): Promise<string> => {
      const names = (await c.docker(['ps', '--format', '{{.Names}}'])).split('\n');
      const name = names.find((n) => n.startsWith('lan-client'));
      if (name === undefined) throw new Error(`no client container on ${c.name}: ${names.join(', ')}`);
      return name;
    };
    /**
     * One HTTP request from the client on C to the server on B, at the host and port its environment got
     * from `connection-hostname` and `connection-port` (the server's cluster DNS name).
     */
    const fetchFromClient = async (): Promise<string | undefined> => {
      try {
        // busybox wget has no usable -T (it crashes): the deadline is the exec's.
        const { stdout } = await run(
          'docker',
          [
            '-H',
            `unix://${c.dockerSocket}`,
            'exec',
            await clientContainer(),
            'sh',
            '-c',
            'wget -qO- "http://$SERVER_HOST:$SERVER_PORT/"',
          ],
          { timeout: 10_000 },
        );
        return stdout.includes(marker) ? stdout : undefined;
      } catch {
        return undefined;
      }
    };
    const meshOf = async (host: LocalHost): Promise<NonNullable<PeerEntry['mesh']>> => {
      const peers = await fixture.root.monkJson<PeerEntry[]>(['cluster', 'peers']);
      const mesh = peers.find((p) => p.name === host.name)?.mesh;
      if (mesh === undefined) throw new Error(`${host.name} has no mesh record`);
      return mesh;
    };
    const packetsIn = async (capture: string): Promise<string[]> =>
      (await run('tcpdump', ['-nn', '-r', capture])).stdout.split('\n').filter((line) => line !== '');
    const inNamespace = async (host: LocalHost, args: readonly string[]): Promise<string> =>
      (await run('nsenter', [`--net=/var/run/netns/${host.namespace}`, ...args])).stdout;

    it('runs the server on B and the client on C, the image shipped from the root engine', async () => {
      for (const host of fixture.hosts) {
        expect(await host.docker(['images', '-q', 'monk-local/busybox'])).toBe('');
      }
      await writeFile(join(dir, 'lan.yaml'), app);
      expect((await fixture.root.monk(['load', join(dir, 'lan.yaml')])).code).toBe(0);
      for (const [runnable, host] of [
        ['lan/server', b],
        ['lan/client', c],
      ] as const) {
        const ran = await fixture.root.monk(['run', runnable, '--peer', host.name, '--timeout', '120'], {
          timeoutMs: 150_000,
        });
        expect(ran.stderr + ran.stdout).toContain(`${runnable} is ready.`);
      }
      const ps = await fixture.root.monkJson<PsEntry[]>(['ps']);
      expect(ps.map((row) => [row.runnable, row.peer, row.ready]).sort()).toEqual([
        ['lan/client', c.peerId, true],
        ['lan/server', b.peerId, true],
      ]);
    });

    it('the client got the server’s cluster DNS names from connection-hostname and get-hostname', async () => {
      const env = await c.docker(['exec', await clientContainer(), 'env']);
      expect(env).toContain('SERVER_HOST=server.lan.monk\n');
      expect(env).toContain('SERVER_PORT=8080\n');
      expect(env).toContain('HTTPD_HOST=httpd.server.lan.monk\n');
    });

    it('the client fetches from the server by DNS name, over the mesh subnets', async () => {
      const body = await eventually(fetchFromClient, {
        what: 'the server answers the client',
        timeoutMs: 30_000,
      });
      expect(body.trim()).toBe(marker);
      const server = (await b.docker(['ps', '--format', '{{.Names}}']))
        .split('\n')
        .find((n) => n.startsWith('lan-server'));
      const address = (
        await b.docker([
          'inspect',
          '-f',
          '{{(index .NetworkSettings.Networks "monk-mesh").IPAddress}}',
          server ?? '',
        ])
      ).trim();
      const subnet = (await meshOf(b)).subnet;
      expect(address.split('.').slice(0, 3).join('.')).toBe(subnet.split('.').slice(0, 3).join('.'));
      for (const name of ['server.lan.monk', 'httpd.server.lan.monk']) {
        const resolved = await c.docker(['exec', await clientContainer(), 'nslookup', name]);
        expect(resolved).toContain(address);
      }
      // Container to container: the server sees the client's own address, not its host's.
      const client = (
        await c.docker([
          'inspect',
          '-f',
          '{{(index .NetworkSettings.Networks "monk-mesh").IPAddress}}',
          await clientContainer(),
        ])
      ).trim();
      expect(client.split('.').slice(0, 3).join('.')).toBe(
        (await meshOf(c)).subnet.split('.').slice(0, 3).join('.'),
      );
      const logs = await run('docker', ['-H', `unix://${b.dockerSocket}`, 'logs', server ?? '']);
      expect(logs.stdout + logs.stderr).toContain(client);
    });

    it('on the underlay, the request is only WireGuard UDP between B and C: no plaintext', async () => {
      const capture = join(dir, 'underlay.pcap');
      const filter = `ip and host ${b.address} and host ${c.address} and not tcp port 44001`;
      const tcpdump = spawn('tcpdump', ['-i', 'monk-local', '-U', '-n', '-w', capture, filter], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      tcpdump.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<void>((resolve) => tcpdump.on('close', () => resolve()));
      try {
        await eventually(async () => (stderr.includes('listening on') ? true : undefined), {
          what: 'tcpdump listening',
        });
        expect(await fetchFromClient()).toBeDefined();
        // tcpdump writes what it caught a moment later: the request and its answer, both ways.
        await eventually(
          async () => {
            const caught = await packetsIn(capture);
            const both = [`${b.address}.51820 > ${c.address}`, `${c.address}.51820 > ${b.address}`];
            return both.every((way) => caught.some((p) => p.includes(way))) ? true : undefined;
          },
          { what: 'the request in the capture', timeoutMs: 10_000 },
        );
      } finally {
        tcpdump.kill('SIGINT');
        await exited;
      }
      const raw = await readFile(capture);
      expect(raw.includes(marker)).toBe(false);
      expect(raw.includes('server.lan.monk')).toBe(false);
      const packets = await packetsIn(capture);
      expect(packets.length).toBeGreaterThan(0);
      const wireguard = new RegExp(
        `IP (${b.address}|${c.address})\\.51820 > (${b.address}|${c.address})\\.51820: UDP`,
      );
      expect(packets.filter((p) => !wireguard.test(p))).toEqual([]);
    });

    it("keeps the LAN working while B's monkd is down and after it is back", async () => {
      const pid = Number(await readFile(join(b.runDir, 'monkd.pid'), 'utf8'));
      process.kill(pid, 'SIGTERM');
      await eventually(
        async () => {
          try {
            process.kill(pid, 0);
            return undefined;
          } catch {
            return true;
          }
        },
        { what: "B's monkd gone", timeoutMs: 30_000 },
      );
      expect(
        await eventually(fetchFromClient, { what: "the server answers while B's monkd is down" }),
      ).toBeDefined();
      // The root monkd brings back the monkd of its hosts on start.
      await fixture.root.restart();
      await eventually(async () => ((await b.monk(['info'])).code === 0 ? true : undefined), {
        what: "B's monkd back",
        timeoutMs: 60_000,
      });
      expect(Number(await readFile(join(b.runDir, 'monkd.pid'), 'utf8'))).not.toBe(pid);
      expect(
        await eventually(fetchFromClient, { what: "the server answers after B's restart" }),
      ).toBeDefined();
      expect(
        (await b.docker(['ps', '--format', '{{.Names}}']))
          .split('\n')
          .filter((n) => n.startsWith('lan-server')),
      ).toHaveLength(1);
    });

    it("removing C removes its tunnel and routes on B, and C's namespace and engine", async () => {
      const gone = await meshOf(c);
      const wg = wireguardInterfaceName(b.peerId);
      expect(await inNamespace(b, ['wg', 'show', wg, 'allowed-ips'])).toContain(gone.subnet);
      const removed = await fixture.root.monk(['cluster', 'peer-remove', c.name]);
      expect(removed.code).toBe(0);
      await eventually(
        async () => {
          const allowed = await inNamespace(b, ['wg', 'show', wg, 'allowed-ips']);
          const routes = await inNamespace(b, ['ip', 'route']);
          return allowed.includes(gone.subnet) || routes.includes(gone.subnet) ? undefined : true;
        },
        { what: `C's tunnel and routes gone from B`, timeoutMs: 15_000 },
      );
      expect(await tracesOf(c)).toEqual([]);
    });
  },
);
