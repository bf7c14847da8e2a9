export { createMonkClient } from './client.ts';
export type { MonkClient, CallOptions } from './client.ts';
export { createUnixSocketTransport } from './transport.ts';
export type { ControlTransport, FrameChannel } from './transport.ts';
export { maxFrameBytes, readJsonLines, writeJsonLine } from './frames.ts';
export { methodAccess, authorizeCall, authorizeResult } from './access.ts';
export type { Caller, MethodAccess } from './access.ts';
export { protocolVersion } from './protocol-version.ts';
export { methodParams, requestFrameSchema, clientFrameSchema } from './protocol.ts';
export type {
  MethodName,
  MethodParams,
  ParsedParams,
  RequestFrame,
  ClientFrame,
  TemplateSummary,
  PsEntry,
  ProgressEvent,
  DeployResult,
  PlanChange,
  PlanResult,
  InfoResult,
  PeerProblem,
  LogEvent,
  ExecOutputEvent,
  DescribeResult,
  ConflictEvent,
  ConflictWrite,
  ClusterInfo,
  PeerEntry,
  JoinTokenResult,
  GrownHost,
  GrowProgressEvent,
  SecretEntry,
  ImageEntry,
  ImagesResult,
  RegistryEntry,
  InstanceStats,
  StatsResult,
  StatsEvent,
  PortForwardResult,
  PortForwardDataEvent,
} from './protocol.ts';
export {
  controlProtocol,
  joinProtocol,
  joinRequestSchema,
  joinResponseSchema,
  encodeJsonMessage,
  decodeJsonMessage,
  peerProblemsSchema,
  requestJoin,
  openControlChannel,
} from './cluster-protocol.ts';
export type {
  JoinRequest,
  JoinResponse,
  JoinClientNode,
  RequestJoinOptions,
  ControlStream,
} from './cluster-protocol.ts';
