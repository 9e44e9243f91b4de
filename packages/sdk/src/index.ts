/**
 * @quiesce/sdk: a worker runtime that makes queue workers safe to scale down.
 * Named exports only: this list is the public surface.
 */
export { createWorker, Worker } from "./worker.js";
export type { WorkerOptions, HttpOptions, KubernetesOptions, PodReportTuning, CheckpointOptions } from "./config/options.js";
export type { PodApi, PodSnapshot, AnnotationPatch } from "./config/pod-api.js";
export type { Handler, JobContext } from "./handler.js";
export type { WorkerEvents, ReleaseReason } from "./events.js";
export type { StateChange } from "./lifecycle/lifecycle.js";
export { WorkerState } from "./lifecycle/states.js";
export type { WorkerStatus, DrainReport } from "./lifecycle/status.js";
export type { Source, Delivery, QueueDepth, ReleaseOptions, SourceStartContext, SourceStatus } from "./source/source.js";
export type { CheckpointCapable, CheckpointStore } from "./source/checkpoint.js";
export { createMemorySource } from "./source/memory-source.js";
export type {
  AddOptions,
  CompletedJob,
  DeadLetter,
  MemorySnapshot,
  MemorySource,
  MemorySourceOptions,
} from "./source/memory-source.js";
export type {
  Resource,
  ResourceContext,
  ResourceJob,
  ResourceHandles,
  ResourcesInput,
  ConnectionBudget,
  PoolConnections,
} from "./resources/resources.js";
export { poolResource } from "./resources/pool.js";
export type { EndablePool, PoolResourceOptions } from "./resources/pool.js";
export type { Logger, LogLevel } from "./logger.js";
export { createJsonLogger, noopLogger } from "./logger.js";
export {
  QuiesceError,
  ConfigError,
  IllegalStateError,
  LeaseLostError,
  DrainDeadlineError,
  SourceError,
  MissingDependencyError,
  CheckpointError,
  coerceError,
} from "./errors.js";
export type { QuiesceErrorCode } from "./errors.js";
