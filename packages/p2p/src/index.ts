export { createP2PNode } from './libp2p-node.ts';
export type { P2PNodeOptions, P2PNodeComponents } from './libp2p-node.ts';
export { createMemoryNetwork } from './memory-network.ts';
export type { MemoryNetwork, MemoryNetworkOptions, MemoryNodeOptions } from './memory-network.ts';
export {
  defaultMaxMessageBytes,
  defaultMaxRequestsPerSecondPerPeer,
  defaultRequestTimeoutMs,
} from './p2p-node.ts';
export type {
  P2PNode,
  MessageStream,
  MessageHandlerContext,
  HandlerOptions,
  RequestHandler,
  StreamHandler,
  RequestOptions,
  OpenStreamOptions,
  FindPeerOptions,
} from './p2p-node.ts';
export type { P2PLogger } from './p2p-logger.ts';
export { generateIdentity, loadOrCreateIdentity } from './peer-identity.ts';
export type { PeerIdentity } from './peer-identity.ts';
export { generateNetworkKey, encodeNetworkKey, decodeNetworkKey, networkKeyLength } from './network-key.ts';
