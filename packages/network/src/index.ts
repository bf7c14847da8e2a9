export {
  createAddressPlan,
  defaultClusterCidr,
  defaultSubnetPrefix,
  type AddressPlan,
  type PeerAddresses,
  type SubnetClaim,
} from './address-plan.ts';
export { createExecFileRunner, type Command, type CommandRunner } from './command-runner.ts';
export {
  allowedIpsOf,
  defaultKeepaliveSeconds,
  describePeerSyncStep,
  planPeerSync,
  type InstalledPeer,
  type MeshPeer,
  type PeerSyncStep,
} from './peer-sync-plan.ts';
export {
  createWireguardInterface,
  destroyWireguardInterfaces,
  findUnderlayMtu,
  interfaceNamePrefix,
  wireguardInterfaceName,
  wireguardMtu,
  wireguardOverhead,
  type WireguardInterface,
  type WireguardInterfaceOptions,
  type WireguardPeerStatus,
} from './wireguard-interface.ts';
export { loadOrCreateWireguardKey, wireguardPublicKey, type WireguardKey } from './wireguard-key.ts';
export {
  parseResolvConf,
  readHostResolvers,
  startDnsServer,
  type DnsLogger,
  type DnsLookup,
  type DnsRecords,
  type DnsServer,
  type DnsServerOptions,
  type DnsService,
} from './dns-server.ts';
export { dnsRcodes, dnsTypes, encodeQuery, parseResponse } from './dns-message.ts';
export { meshDnsName, parseMeshDnsName, runnableMeshDnsName, type MeshDnsTarget } from './dns-names.ts';
export {
  allowMeshForwarding,
  meshForwardChain,
  meshForwardRules,
  meshNatRules,
  removeMeshForwarding,
  type MeshForwardLinks,
} from './mesh-forward.ts';
export { meshDnsRecords } from './mesh-dns-lookup.ts';
export { detectMeshSupport, type MeshSupport } from './mesh-support.ts';
export { ipv4InCidr, subnetGateway } from './ipv4.ts';
