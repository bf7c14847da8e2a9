export {
  errorCodes,
  MonkError,
  isErrorCode,
  deserializeError,
  toMonkError,
  formatLocation,
} from './errors.ts';
export type { ErrorCode, SourceLocation, MonkErrorOptions, SerializedError } from './errors.ts';
export { parseTemplatePath, normalizeTemplatePath, toDnsLabel } from './paths.ts';
export type { TemplatePath } from './paths.ts';
export { jsonValueSchema, jsonObjectSchema } from './json.ts';
export type { JsonValue, JsonObject } from './json.ts';
export {
  portMappingSchema,
  mountSchema,
  fileSpecSchema,
  resourceLimitsSchema,
  resourceRequestsSchema,
  placementConstraintsSchema,
  unschedulableSchema,
  containerSpecSchema,
  readinessCheckSchema,
  livenessCheckSchema,
  recoveryWhenValues,
  recoveryModeValues,
  recoveryPolicySchema,
  defaultRecoveryPolicy,
  serviceSpecSchema,
  resolvedRunnableSchema,
  workloadSchema,
  workloadId,
  workloadPhases,
  observedWorkloadSchema,
  deploymentSchema,
} from './workload.ts';
export type {
  PortMapping,
  Mount,
  FileSpec,
  ResourceLimits,
  ResourceRequests,
  PlacementConstraints,
  Unschedulable,
  ContainerSpec,
  ReadinessCheck,
  LivenessCheck,
  RecoveryWhen,
  RecoveryMode,
  RecoveryPolicy,
  ServiceSpec,
  ResolvedRunnable,
  Workload,
  WorkloadPhase,
  ObservedWorkload,
  Deployment,
} from './workload.ts';
export { monkLabels } from './labels.ts';
export { createPrng } from './prng.ts';
export { canonicalJson, specHash } from './spec-hash.ts';
export {
  peerStates,
  peerRecordSchema,
  peerWireguardSchema,
  peerCapacitySchema,
  operatorAccessLevels,
  defaultOperatorAccess,
} from './peer.ts';
export type { PeerState, PeerRecord, PeerWireguard, PeerCapacity, OperatorAccess } from './peer.ts';
export { instanceStatus } from './instance-status.ts';
export type { InstanceState, InstanceStatus, InstanceView, UnknownReason } from './instance-status.ts';
