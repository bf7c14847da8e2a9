import { runP2PComplianceTests } from '../src/test-compliance.ts';
import { createP2PNode, generateIdentity, generateNetworkKey } from '../src/index.ts';
import type { P2PNode, PeerIdentity } from '../src/index.ts';

function libp2pHarness() {
  const clusterKey = generateNetworkKey();
  const otherKey = generateNetworkKey();
  const identities = new Map<string, PeerIdentity>();
  let nodes: P2PNode[] = [];

  async function start(identity: PeerIdentity, networkKey: Uint8Array): Promise<P2PNode> {
    const node = await createP2PNode({
      identity,
      listen: { host: '127.0.0.1', port: 0 },
      networkKey,
      allowList: [],
    });
    nodes.push(node);
    await node.start();
    return node;
  }

  return {
    suffix: '(needs loopback TCP)',
    async createNode(options: { readonly foreignKey?: boolean } = {}) {
      const identity = await generateIdentity();
      identities.set(identity.peerId, identity);
      return start(identity, options.foreignKey === true ? otherKey : clusterKey);
    },
    async restartNode(node: P2PNode) {
      const identity = identities.get(node.peerId);
      if (identity === undefined) throw new Error(`unknown node ${node.peerId}`);
      await node.stop();
      return start(identity, clusterKey);
    },
    async cleanup() {
      await Promise.all(nodes.map((node) => node.stop()));
      nodes = [];
    },
  };
}

runP2PComplianceTests(libp2pHarness());
