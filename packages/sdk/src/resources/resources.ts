import { ConfigError } from "../errors.js";
import type { Logger } from "../logger.js";

/**
 * Something the worker owns besides the source (a database pool, a client): started before the
 * source connects, closed after the drain, once the last delivery settled, so handlers never see
 * it closed under them. `Handle` is what a handler gets as `ctx.resources.<name>`.
 */
export interface Resource<Handle = unknown> {
  readonly name: string;
  /** Draws on the fleet's connection budget (`QUIESCE_DB_MAX_CONNECTIONS`), shared evenly by every resource that does. */
  readonly usesConnectionBudget?: boolean;
  /** Called once before the source connects; a throw (a ConfigError, say) stops start-up. */
  start?(context: ResourceContext): Promise<void> | void;
  /** The handle for one job, bound to its signals; called at most once per job, when the handler first reads `ctx.resources`. */
  forJob?(job: ResourceJob): Handle;
  /** Connection counts for `quiesce_pool_connections`, read at scrape time. */
  connections?(): PoolConnections;
  close(): Promise<void>;
}

/** What a resource learns about the worker it serves. */
export interface ResourceContext {
  readonly concurrency: number;
  /** This worker's share of the fleet's connections, when both budget settings are given and the resource draws on it. */
  readonly connectionBudget: ConnectionBudget | null;
  readonly logger: Logger;
  /** Record how long one checkout waited for a connection, in seconds (`quiesce_pool_wait_seconds`). */
  observeWait(seconds: number): void;
}

/** `QUIESCE_DB_MAX_CONNECTIONS` connections for `QUIESCE_MAX_REPLICAS` workers at full scale. */
export interface ConnectionBudget {
  readonly maxConnections: number;
  readonly maxReplicas: number;
  /** ⌊maxConnections ÷ maxReplicas⌋: what one worker may hold in all. */
  readonly perWorker: number;
  /** Resources of this worker that draw on the budget. */
  readonly pools: number;
  /** ⌊perWorker ÷ pools⌋: what this resource may open. */
  readonly perPool: number;
}

/** The part of a job's context a resource binds to. */
export interface ResourceJob {
  readonly id: string;
  /** Aborts when the job must stop now (deadline, lost lease). */
  readonly signal: AbortSignal;
  readonly draining: AbortSignal;
  /**
   * Call `listener` once when `signal` aborts (at once if it has); returns the unsubscribe. The
   * cheap way to follow the signal on every job: reading `signal` makes an AbortSignal (microseconds).
   */
  onAbort(listener: (reason: Error) => void): () => void;
}

/** Connections of one pool: `idle` and `busy` are open, `waiting` counts callers queued for one. */
export interface PoolConnections {
  readonly idle: number;
  readonly busy: number;
  readonly waiting: number;
}

/** Resources by the name handlers use (`ctx.resources.<key>`), or a plain list (keyed by each `name`). */
export type ResourcesInput = Readonly<Record<string, Resource<unknown>>> | readonly Resource<unknown>[];

/** The type of `ctx.resources` for a {@link ResourcesInput}. */
export type ResourceHandles<R> = ResourcesInput extends R
  ? Readonly<Record<string, unknown>> // nothing known: no resources given, or typed loosely
  : [R] extends [readonly Resource<unknown>[]]
    ? Readonly<Record<string, unknown>>
    : { readonly [K in keyof R]: R[K] extends Resource<infer H> ? H : never };

/** A resource under the key handlers reach it by. */
export interface NamedResource {
  readonly key: string;
  readonly resource: Resource<unknown>;
}

/** The resources in registration order, each with its key; two with one key (or one `name`) are a ConfigError. */
export function listResources(input: ResourcesInput | undefined): NamedResource[] {
  if (input === undefined) return [];
  if (typeof input !== "object" || input === null) throw new ConfigError(`resources must be an object of resources by name, or an array, got ${String(input)}`);
  const entries: NamedResource[] = Array.isArray(input)
    ? (input as readonly Resource<unknown>[]).map((resource) => ({ key: resource?.name, resource }))
    : Object.entries(input).map(([key, resource]) => ({ key, resource }));
  const keys = new Set<string>();
  const names = new Set<string>();
  for (const { key, resource } of entries) {
    if (typeof resource !== "object" || resource === null || typeof resource.close !== "function" || typeof resource.name !== "string") {
      throw new ConfigError(`resources.${key}: must be a resource ({ name, close() }, e.g. from poolResource), got ${typeof resource}`);
    }
    if (keys.has(key)) throw new ConfigError(`resources: two resources are named "${key}"; give each its own name`);
    if (names.has(resource.name)) throw new ConfigError(`resources: two resources have the name "${resource.name}" (it labels their metrics); give each its own name`);
    keys.add(key);
    names.add(resource.name);
  }
  return entries;
}

/** What {@link startResources} gives every resource, besides its own share of the budget. */
export interface StartOptions {
  readonly concurrency: number;
  readonly budget: Omit<ConnectionBudget, "pools" | "perPool"> | null;
  readonly logger: Logger;
  /** The wait recorder for the pool of this name. */
  observeWait(name: string): (seconds: number) => void;
}

/**
 * Start each resource in registration order, before the source connects, telling it the worker's
 * concurrency and its share of the connection budget: the budgeted resources split ⌊maxConnections
 * ÷ maxReplicas⌋ evenly.
 */
export async function startResources(resources: readonly NamedResource[], options: StartOptions): Promise<void> {
  const { budget } = options;
  const pools = resources.filter(({ resource }) => resource.usesConnectionBudget === true).length;
  if (budget && pools > budget.perWorker) {
    throw new ConfigError(
      `QUIESCE_DB_MAX_CONNECTIONS ${budget.maxConnections} ÷ QUIESCE_MAX_REPLICAS ${budget.maxReplicas} gives each worker ${budget.perWorker} connection(s), fewer than its ${pools} pools need (one each)`,
    );
  }
  for (const { resource } of resources) {
    if (!resource.start) continue;
    const share = budget && resource.usesConnectionBudget === true ? { ...budget, pools, perPool: Math.floor(budget.perWorker / pools) } : null;
    await resource.start({
      concurrency: options.concurrency,
      connectionBudget: share,
      logger: options.logger,
      observeWait: options.observeWait(resource.name),
    });
  }
}

/** `ctx.resources` for one job: each resource's handle for it, or the resource itself. */
export function handlesFor(resources: readonly NamedResource[], job: ResourceJob): Record<string, unknown> {
  const handles: Record<string, unknown> = {};
  for (const { key, resource } of resources) handles[key] = resource.forJob ? resource.forJob(job) : resource;
  return handles;
}
