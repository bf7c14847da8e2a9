export { planReconcile, describeStep } from './plan-reconcile.ts';
export type {
  ContainerState,
  ObservedContainer,
  RestartRecord,
  ReconcileInput,
  PlanStep,
  WaitingWorkload,
  Plan,
} from './plan-reconcile.ts';
export { nextRestartDelay } from './restart-backoff.ts';
export {
  instancePhase,
  isDeployFailure,
  restartsOnExit,
  restartsOnLivenessFailure,
  peerFailureRecovery,
  createRetryDelay,
  hasRecovered,
  recoveredAfterMs,
  maxCreateRetryMs,
} from './instance-phase.ts';
export type { InstanceFacts, InstanceStatus, CheckStatus } from './instance-phase.ts';
export { diffWorkloads } from './deployment-diff.ts';
export type { DeploymentChange } from './deployment-diff.ts';
export { formatPlan } from './format-plan.ts';
export { placeWorkloads, reassignOrphans } from './placement.ts';
export type {
  PlacementPeer,
  PlacementRequest,
  PlacementFailure,
  Reassignment,
  OwnedWorkload,
} from './placement.ts';
export { buildWorkloads, containerName, runnableHostname } from './build-workloads.ts';
export { planDeploy, placePending, pendingPlacer } from './deploy-plan.ts';
export type { DeployInput, DeployPeer, DeployPlan, UnschedulableInstance } from './deploy-plan.ts';
export { planRepair } from './repair.ts';
export type { RepairPeer, RepairWorkload, RepairMove, RepairWait, RepairPlan } from './repair.ts';
