#!/usr/bin/env node
import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { access } from 'node:fs/promises';
import { toMonkError } from '@monk/model';
import { createExecFileRunner, detectMeshSupport } from '@monk/network';
import type { MeshOptions } from './cluster/mesh-record.ts';
import { startDaemon } from './daemon.ts';
import { securePrivateDir } from './data-dir.ts';
import { createLogger, type LogLevel } from './logger.ts';
import { loadOrCreatePeer } from './peer-identity.ts';

const usage = `monkd: the monk daemon of this host

  --data-dir DIR        state of this peer (default: $MONK_HOME or ~/.monk)
  --api-socket PATH     control API socket, mode 0600 (default: DIR/monkd.sock)
  --docker-socket PATH  Docker engine socket (default: /var/run/docker.sock)
  --name NAME           peer name (default: the host name)
  --p2p-host HOST       address the cluster listener binds (default: 0.0.0.0)
  --p2p-port PORT       cluster listener port, once in a cluster (default: 44001; 0 picks one)
  --resync-seconds N    full reconcile pass at least this often (default: 10)
  --log-level LEVEL     debug | info | warn | error (default: info)
  --registry-pull-timeout SECONDS
                        try an image's registry this long before asking cluster peers for it
                        (default: 10; 0 never pulls: images then come only from peers)
  --recover-graph       start from the intact records of a damaged graph log, keeping a copy of it;
                        containers the recovered graph does not know are left running
  --mesh                take part in the WireGuard mesh: on cluster create/join, make a key pair
                        (DIR/wireguard.key) and publish key, endpoint and subnet in the peer record.
                        Without --mesh or --no-mesh, the mesh (with --mesh-tunnels) is on when it can run:
                        as root, with ip, iptables, wg and WireGuard (kernel module or wireguard-go), on a
                        Docker engine that runs no other monk peer's containers
  --no-mesh             stay out of the mesh (workloads on the plain monk network of this host)
  --mesh-port PORT      UDP port of this peer's WireGuard (default: 51820)
  --mesh-endpoint HOST  underlay address other peers reach this one at (default: its first non-loopback IPv4)
  --mesh-tunnels        with --mesh: also bring up this peer's WireGuard interface and keep its peers and
                        routes in step with the peer records (needs root; kernel module or wireguard-go),
                        run containers on the monk-mesh bridge on this peer's subnet and serve cluster
                        DNS (<runnable>.<namespace>.monk) on its gateway`;

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    'api-socket': { type: 'string' },
    'docker-socket': { type: 'string' },
    name: { type: 'string' },
    'p2p-host': { type: 'string' },
    'p2p-port': { type: 'string' },
    'resync-seconds': { type: 'string' },
    'log-level': { type: 'string' },
    'recover-graph': { type: 'boolean' },
    'registry-pull-timeout': { type: 'string' },
    mesh: { type: 'boolean' },
    'mesh-port': { type: 'string' },
    'mesh-endpoint': { type: 'string' },
    'mesh-tunnels': { type: 'boolean' },
    'no-mesh': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help === true) {
  console.log(usage);
  process.exit(0);
}

const dataDir = resolve(values['data-dir'] ?? process.env['MONK_HOME'] ?? join(homedir(), '.monk'));
const logLevel = (values['log-level'] ?? 'info') as LogLevel;
const logger = createLogger({
  level: ['debug', 'info', 'warn', 'error'].includes(logLevel) ? logLevel : 'info',
});

function registryPull(seconds: string | undefined): false | { timeoutMs: number } {
  const value = Number(seconds ?? 10);
  if (!Number.isFinite(value) || value < 0) {
    logger.error(`--registry-pull-timeout takes seconds, not ${seconds ?? ''}`);
    process.exit(2);
  }
  return value === 0 ? false : { timeoutMs: value * 1000 };
}

/** `--mesh` as asked, `--no-mesh`, or on by default when this host can run it (see the usage). */
async function meshOptions(): Promise<MeshOptions | undefined> {
  const asked = values.mesh === true || values['mesh-tunnels'] === true;
  if (values['no-mesh'] === true) {
    if (asked) {
      logger.error('--no-mesh contradicts --mesh and --mesh-tunnels: give one or the other');
      process.exit(2);
    }
    return undefined;
  }
  const base = { listenPort: Number(values['mesh-port'] ?? 51820), endpointHost: values['mesh-endpoint'] };
  if (asked) return { ...base, tunnels: values['mesh-tunnels'] === true };
  const support = await detectMeshSupport({
    runner: createExecFileRunner({ timeoutMs: 5_000 }),
    uid: process.getuid?.(),
    exists: (path) =>
      access(path).then(
        () => true,
        () => false,
      ),
  });
  if (!support.supported) {
    logger.info(`mesh off: ${support.reason} (--mesh --mesh-tunnels to insist)`);
    return undefined;
  }
  return { ...base, tunnels: true, byDefault: true };
}

try {
  await securePrivateDir(dataDir, logger);
  const peer = await loadOrCreatePeer({ dataDir, name: values.name ?? hostname() });
  const daemon = await startDaemon(
    {
      dataDir,
      apiSocket: resolve(values['api-socket'] ?? join(dataDir, 'monkd.sock')),
      dockerSocket: values['docker-socket'] ?? '/var/run/docker.sock',
      identity: peer.identity,
      peerName: peer.name,
      p2pListen: { host: values['p2p-host'] ?? '0.0.0.0', port: Number(values['p2p-port'] ?? 44001) },
      resyncIntervalMs: Number(values['resync-seconds'] ?? 10) * 1000,
      version: '0.1.0',
      recoverGraph: values['recover-graph'] === true,
      registryPull: registryPull(values['registry-pull-timeout']),
      mesh: await meshOptions(),
    },
    logger,
  );
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info(`received ${signal}, stopping`);
    daemon.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('stop failed', { error: toMonkError(error).toJSON() });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (error) {
  const monkError = toMonkError(error);
  logger.error(`monkd could not start: ${monkError.message}`, { code: monkError.code });
  process.exit(1);
}
