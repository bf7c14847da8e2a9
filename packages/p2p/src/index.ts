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
export { createJoinToken, parseJoinToken, hashTokenSecret, generateTokenSecret } from './join-token.ts';
export type { JoinToken, ParseJoinTokenOptions } from './join-token.ts';
export { createMembership, defaultMembershipProtocol } from './membership/membership.ts';
export type {
  Membership,
  MembershipOptions,
  Member,
  MemberState,
  MembershipListener,
  MembershipLogger,
} from './membership/membership.ts';
export { defaultMembershipConfig } from './membership/membership-config.ts';
export type { MembershipConfig } from './membership/membership-config.ts';
export type {
  MembershipTransport,
  MembershipRequestOptions,
  MembershipRequestContext,
} from './membership/membership-transport.ts';
export { systemTimers } from './membership/timers.ts';
export type { Timers } from './membership/timers.ts';
