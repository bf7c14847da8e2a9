import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MonkError } from '@monk/model';
import {
  createJoinToken,
  createP2PNode,
  generateIdentity,
  generateNetworkKey,
  generateTokenSecret,
} from '@monk/p2p';
import type { P2PNode } from '@monk/p2p';
import {
  controlProtocol,
  createMonkClient,
  decodeJsonMessage,
  encodeJsonMessage,
  joinProtocol,
  joinRequestSchema,
} from '@monk/sdk';
import type { JoinRequest, JoinResponse } from '@monk/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContextStore } from './context-store.ts';
import type { ContextStore } from './context-store.ts';
import { joinAsOperator, operatorPeerId, peersOfAddresses } from './operator-join.ts';
import { createP2PTransport } from './p2p-transport.ts';

const networkKey = generateNetworkKey();
const clusterId = 'cluster-42';
const secrets = new Set<string>();
const joined: JoinRequest[] = [];
let home: string;
let store: ContextStore;
let server: P2PNode;

/** A stand-in for monkd's join handler: single-use secrets, the newcomer goes on the allow-list. */
async function serveJoin(request: Uint8Array, context: { from: string }): Promise<Uint8Array> {
  const parsed = joinRequestSchema.parse(decodeJsonMessage(request));
  if (!secrets.delete(parsed.secret)) throw new MonkError('JOIN_TOKEN_USED', 'this join token was used');
  joined.push(parsed);
  server.setAllowList([...server.allowList(), context.from]);
  const response: JoinResponse = {
    v: 1,
    clusterId,
    clusterName: 'prod eu',
    peers: [
      { id: server.peerId, name: 'node-1', role: 'peer', addresses: server.addresses() },
      { id: context.from, name: parsed.name, role: 'operator', addresses: [] },
    ],
  };
  return encodeJsonMessage(response);
}

function tokenFor(
  options: { role?: 'peer' | 'operator'; expiresAt?: string; addresses?: string[] } = {},
): string {
  const secret = generateTokenSecret();
  secrets.add(secret);
  return createJoinToken({
    clusterId,
    clusterName: 'prod eu',
    networkKey,
    addresses: options.addresses ?? server.addresses(),
    role: options.role ?? 'operator',
    expiresAt: options.expiresAt ?? new Date(Date.now() + 3_600_000).toISOString(),
    secret,
  });
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'monk-operator-join-'));
  store = createContextStore({ home });
  server = await createP2PNode({
    identity: await generateIdentity(),
    listen: { host: '127.0.0.1', port: 0 },
    networkKey,
    allowList: [],
  });
  await server.start();
  server.handle(joinProtocol, serveJoin, { allowUnlisted: true });
  server.handleStream(controlProtocol, async (stream) => {
    for await (const message of stream) {
      const frame = decodeJsonMessage(message) as { method: string };
      await stream.send(encodeJsonMessage({ result: { method: frame.method, served: server.peerId } }));
      break;
    }
  });
});

afterAll(async () => {
  await server.stop();
  await rm(home, { recursive: true, force: true });
});

const now = (): Date => new Date();

describe('joining a cluster as an operator (real nodes on 127.0.0.1)', () => {
  it('joins with an operator token, saves a private context and can then drive the cluster', async () => {
    const context = await joinAsOperator({
      token: tokenFor(),
      store,
      operatorName: 'laptop-operator',
      now: now(),
    });
    expect(context).toMatchObject({
      name: 'prod-eu',
      clusterId,
      clusterName: 'prod eu',
      peers: [{ id: server.peerId, name: 'node-1', addresses: server.addresses() }],
    });
    expect(joined.at(-1)).toMatchObject({ v: 1, name: 'laptop-operator', role: 'operator', addresses: [] });
    expect(await store.get('prod-eu')).toEqual(context);
    for (const file of ['context.json', 'identity.key']) {
      expect((await stat(join(store.directory('prod-eu'), file))).mode & 0o777).toBe(0o600);
    }

    const operator = await operatorPeerId(store, 'prod-eu');
    expect(server.allowList()).toContain(operator);
    const transport = createP2PTransport({ context, identityFile: store.identityFile('prod-eu') });
    try {
      const answer = await createMonkClient({ transport }).call('cluster.info', {});
      expect(answer).toEqual({ method: 'cluster.info', served: server.peerId });
    } finally {
      await transport.dispose();
    }
  });

  it('passes on the issuing peer’s refusal and leaves no new context behind', async () => {
    const token = tokenFor();
    await joinAsOperator({ token, store, name: 'first', operatorName: 'op', now: now() });
    await expect(
      joinAsOperator({ token, store, name: 'second', operatorName: 'op', now: now() }),
    ).rejects.toMatchObject({
      code: 'JOIN_TOKEN_USED',
    });
    expect(await store.find('second')).toBeUndefined();
    await expect(stat(store.directory('second'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a peer token, an expired token and a name taken by another cluster, before dialling', async () => {
    const count = joined.length;
    await expect(
      joinAsOperator({ token: tokenFor({ role: 'peer' }), store, operatorName: 'op', now: now() }),
    ).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    const expiresAt = new Date(Date.now() + 1000).toISOString();
    await expect(
      joinAsOperator({
        token: tokenFor({ expiresAt }),
        store,
        operatorName: 'op',
        now: new Date(Date.now() + 5000),
      }),
    ).rejects.toMatchObject({ code: 'JOIN_TOKEN_EXPIRED' });
    await store.save({
      name: 'taken',
      clusterId: 'another-cluster',
      clusterName: 'other',
      networkKey: 'x',
      peers: [],
      createdAt: now().toISOString(),
    });
    await expect(
      joinAsOperator({ token: tokenFor(), store, name: 'taken', operatorName: 'op', now: now() }),
    ).rejects.toMatchObject({ code: 'CLUSTER_EXISTS' });
    expect(joined.length).toBe(count);
  });

  it('fails with PEER_UNREACHABLE when no address of the token answers', async () => {
    const id = (await generateIdentity()).peerId;
    const token = tokenFor({ addresses: [`/ip4/127.0.0.1/tcp/1/p2p/${id}`] });
    const error = await joinAsOperator({
      token,
      store,
      name: 'nowhere',
      operatorName: 'op',
      now: now(),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PEER_UNREACHABLE' });
    expect((error as Error).message).toContain('/ip4/127.0.0.1/tcp/1/');
    expect(await store.find('nowhere')).toBeUndefined();
  });
});

describe('peersOfAddresses', () => {
  it('groups addresses by their /p2p/ id in order of first appearance and skips bare ones', () => {
    expect(
      peersOfAddresses([
        '/ip4/10.0.0.2/tcp/44001/p2p/B',
        '/ip4/10.0.0.1/tcp/44001/p2p/A',
        '/ip4/10.0.0.9/tcp/44001',
        '/ip6/::1/tcp/44001/p2p/B',
      ]),
    ).toEqual([
      { id: 'B', addresses: ['/ip4/10.0.0.2/tcp/44001/p2p/B', '/ip6/::1/tcp/44001/p2p/B'] },
      { id: 'A', addresses: ['/ip4/10.0.0.1/tcp/44001/p2p/A'] },
    ]);
  });
});
