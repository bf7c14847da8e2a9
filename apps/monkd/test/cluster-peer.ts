import { createMonkClient, createUnixSocketTransport, type MonkClient, type PeerEntry } from '@monk/sdk';
import { startMonkd, type MonkdProcess } from './harness.ts';

/** A monkd started for a cluster test, with an SDK client on its socket and its peer id. */
export interface ClusterPeer {
  readonly name: string;
  readonly monkd: MonkdProcess;
  readonly client: MonkClient;
  readonly id: string;
}

/**
 * Starts a monkd named `name` whose p2p listener binds `host` (any free port), optionally through `prefix`
 * (e.g. `nsenter --net=…` to run it in a network namespace).
 */
export async function startClusterPeer(
  name: string,
  host: string,
  prefix?: readonly string[],
): Promise<ClusterPeer> {
  const monkd = await startMonkd({
    extraArgs: ['--name', name, '--p2p-host', host, '--p2p-port', '0'],
    ...(prefix === undefined ? {} : { prefix }),
  });
  const client = createMonkClient({ transport: createUnixSocketTransport({ path: monkd.socket }) });
  return { name, monkd, client, id: await monkd.peerId() };
}

/** What `observer`'s membership says of `subject` (alive, suspect, dead, …), if it knows it. */
export const stateSeenBy = async (observer: ClusterPeer, subject: ClusterPeer): Promise<string | undefined> =>
  ((await observer.client.call('cluster.peers', {})) as PeerEntry[]).find((p) => p.id === subject.id)?.state;
