import { MonkError } from '@monk/model';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryNetwork } from './memory-network.ts';
import type { MemoryNetwork } from './memory-network.ts';
import type { MembershipTransport } from './membership/membership-transport.ts';
import type { P2PNode } from './p2p-node.ts';
import { runP2PComplianceTests, waitFor } from './test-compliance.ts';

function memoryHarness() {
  let network = createMemoryNetwork({ seed: 1 });
  let nodes: P2PNode[] = [];
  return {
    suffix: '(memory twin)',
    async createNode(options: { readonly foreignKey?: boolean } = {}) {
      const node = network.createNode(
        options.foreignKey === true ? { networkKey: new Uint8Array(32).fill(7) } : {},
      );
      nodes.push(node);
      await node.start();
      return node;
    },
    async restartNode(node: P2PNode) {
      await node.stop();
      const restarted = network.createNode({ peerId: node.peerId });
      nodes.push(restarted);
      await restarted.start();
      return restarted;
    },
    async cleanup() {
      await Promise.all(nodes.map((node) => node.stop()));
      nodes = [];
      network = createMemoryNetwork({ seed: 1 });
    },
  };
}

runP2PComplianceTests(memoryHarness());

describe('memory network faults', () => {
  let network: MemoryNetwork;
  let nodes: P2PNode[] = [];

  afterEach(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    nodes = [];
  });

  async function cluster(count: number, seed: number): Promise<P2PNode[]> {
    network = createMemoryNetwork({ seed });
    const ids = Array.from({ length: count }, (_, index) => `peer-${String(index)}`);
    nodes = ids.map((peerId) => network.createNode({ peerId, allowList: ids }));
    for (const node of nodes) {
      await node.start();
      node.handle('/echo', (request) => Promise.resolve(request));
    }
    return nodes;
  }

  const code = (error: unknown): string => (error instanceof MonkError ? error.code : String(error));

  it('cuts a partitioned pair, then heals it on the next request', async () => {
    const [a, b] = await cluster(2, 7);
    if (a === undefined || b === undefined) throw new Error('cluster of two');
    await a.request(b.peerId, '/echo', new Uint8Array([1]));
    expect(a.connectedPeers()).toEqual([b.peerId]);

    network.partition(a.peerId, b.peerId);
    expect(a.connectedPeers()).toEqual([]);
    await expect(a.request(b.peerId, '/echo', new Uint8Array([1]))).rejects.toMatchObject({
      code: 'PEER_UNREACHABLE',
    });
    network.heal();
    expect(await a.request(b.peerId, '/echo', new Uint8Array([2]))).toEqual(new Uint8Array([2]));
  });

  it('fails an in-flight request when its connection is cut', async () => {
    const [a, b] = await cluster(2, 8);
    if (a === undefined || b === undefined) throw new Error('cluster of two');
    b.handle('/slow', () => new Promise(() => undefined));
    const pending = a.request(b.peerId, '/slow', new Uint8Array(0));
    await waitFor(() => a.connectedPeers().length === 1, 'the connection');
    network.partition(a.peerId, b.peerId);
    await expect(pending).rejects.toMatchObject({ code: 'PEER_UNREACHABLE' });
  });

  it('loses a seeded, repeatable share of requests as TIMEOUT', async () => {
    const outcomes = async (seed: number): Promise<string[]> => {
      const [a, b] = await cluster(2, seed);
      if (a === undefined || b === undefined) throw new Error('cluster of two');
      network.setLoss(0.3);
      // Concurrent, so the run lasts one timeout; lost requests time out, the others answer at once.
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, index) =>
          a.request(b.peerId, '/echo', new Uint8Array([index]), { timeoutMs: 400 }).then(
            () => 'ok',
            (error: unknown) => code(error),
          ),
        ),
      );
      await Promise.all(nodes.map((node) => node.stop()));
      return results;
    };
    const seed = 1234;
    const first = await outcomes(seed);
    expect(first, `seed ${String(seed)}`).toContain('TIMEOUT');
    expect(first, `seed ${String(seed)}`).toContain('ok');
    expect(first.every((outcome) => outcome === 'ok' || outcome === 'TIMEOUT')).toBe(true);
    expect(await outcomes(seed), `seed ${String(seed)}`).toEqual(first);
  });

  it('keeps stream messages in order under latency changes', async () => {
    const [a, b] = await cluster(2, 9);
    if (a === undefined || b === undefined) throw new Error('cluster of two');
    const received: number[] = [];
    b.handleStream('/sink', async (stream) => {
      for await (const message of stream) received.push(message[0] ?? -1);
    });
    network.setLatency(5);
    const stream = await a.openStream(b.peerId, '/sink');
    for (let index = 0; index < 20; index += 1) {
      if (index === 10) network.setLatency(0);
      await stream.send(new Uint8Array([index]));
    }
    await stream.close();
    await waitFor(() => received.length === 20, 'all messages');
    expect(received).toEqual(Array.from({ length: 20 }, (_, index) => index));
  });

  it('serves as the transport of membership', () => {
    const node: P2PNode = createMemoryNetwork().createNode({ peerId: 'm' });
    const transport: MembershipTransport = node;
    expect(transport.peerId).toBe('m');
  });

  it('rejects bad fault settings', () => {
    const faults = createMemoryNetwork();
    expect(() => faults.setLoss(2)).toThrow(MonkError);
    expect(() => faults.setLatency(-1)).toThrow(MonkError);
  });
});
