export { containerStates, runtimeEventTypes } from './container-runtime.ts';
export type {
  ContainerState,
  ContainerInfo,
  CreateContainerOptions,
  NetworkOptions,
  RuntimeEventType,
  RuntimeEvent,
  LogEntry,
  LogsOptions,
  ExecOptions,
  ExecResult,
  ExecStreamOptions,
  ExecOutputChunk,
  ExecSession,
  EventsOptions,
  ListContainersOptions,
  ContainerStats,
  RuntimeVersion,
  ContainerRuntime,
} from './container-runtime.ts';
export { createDockerRuntime } from './docker-runtime.ts';
export type { DockerRuntimeOptions } from './docker-runtime.ts';
export { createMemoryRuntime } from './memory-runtime.ts';
export type {
  MemoryRuntime,
  MemoryRuntimeOptions,
  MemoryExecRequest,
  MemoryExecHandler,
  MemoryProcess,
  MemoryProcessHandler,
} from './memory-runtime.ts';
export { probeReadiness } from './probe-readiness.ts';
export type { ProbeReadinessOptions, ProbeResult } from './probe-readiness.ts';
export type {
  ImageInfo,
  ImageStore,
  RegistryAuth,
  PullImageOptions,
  ExportImageOptions,
} from './image-store.ts';
export { createDockerImageStore } from './docker-image-store.ts';
export type { DockerImageStoreOptions } from './docker-image-store.ts';
export { createMemoryImageStore } from './memory-image-store.ts';
export type { MemoryImageStore, MemoryImageStoreOptions } from './memory-image-store.ts';
