export type {
  CloudProvider,
  HostProgress,
  HostRecord,
  HostRequest,
  HostStatus,
  LocalHostFacts,
} from './cloud-provider.ts';
export { createHostSystem } from './host-system.ts';
export type { HostSystem } from './host-system.ts';
export {
  allocateAddresses,
  bridgeAddress,
  chooseHostNames,
  conflictingRoutes,
  defaultBridge,
  defaultSubnet,
  describeStep,
  hostPaths,
  localHostFacts,
  namespacePrefix,
  parseSubnet,
  planBridge,
  planCreateHost,
  planRemoveBridge,
  planRemoveHost,
} from './local-plan.ts';
export type { BridgeFacts, HostAction, HostMarker, HostStep, LocalLayout, RouteFact } from './local-plan.ts';
export { createLocalProvider, defaultRunRoot, readHostMarkers, sweepLocalHosts } from './local-provider.ts';
export type { LocalProvider, LocalProviderOptions } from './local-provider.ts';
