import type { CheckpointCapable } from "./checkpoint.js";

/**
 * The source contract: what a queue backend must provide for the runtime to keep its promises
 * (each delivery settled exactly once, nothing received after a drain began, a lost lease never
 * acked). It states semantics only; no broker type appears here.
 *
 * Ownership: a {@link Delivery} returned by `receive()` belongs to the runtime until exactly one
 * of `ack`, `fail` or `release` has resolved. The runtime never calls two of them for the same
 * delivery, and never calls `extend` after one of them started.
 */
export interface Source {
  /** Queue name: used as the `queue` metric label and in logs. */
  readonly name: string;
  /**
   * How long a lease lasts when nobody renews it, in ms. The lease keeper renews every in-flight
   * delivery at about half of this. A backend without leases (RabbitMQ) gives the period at which
   * it wants `extend` called to check the channel's health.
   */
  readonly leaseMs: number;
  /**
   * Connect. Rejects if the backend cannot be reached; the runtime retries with backoff, except
   * after a ConfigError (a setting no retry can fix: fatal at once). The runtime passes what a
   * source may size itself by (a prefetch that defaults to the concurrency).
   */
  start(context?: SourceStartContext): Promise<void>;
  /**
   * Take up to `max` deliveries, each leased to this worker. May wait (long-poll) for work, but
   * must return promptly (with what it has, possibly nothing) once `signal` aborts. Resolves `[]`
   * when nothing came within the backend's poll window; never resolves with more than `max`.
   */
  receive(max: number, signal: AbortSignal): Promise<Delivery[]>;
  /**
   * Called once when the drain starts, before the in-flight jobs finish: stop fetching (cancel
   * consumers, abort polls) and release at once everything prefetched but not yet returned by
   * `receive()`, so another worker gets it now rather than after a lease timeout.
   */
  pause?(): Promise<void>;
  /** How much work the queue holds, for exit-when-empty and the `quiesce_queue_depth` metric. */
  depth?(): Promise<QueueDepth>;
  /** Close connections. Called after every delivery was settled; must be safe to call once. */
  stop(): Promise<void>;
  /** The broker link as the source sees it now, shown under `source` in `/status`. Must be cheap. */
  status?(): SourceStatus;
}

export interface SourceStartContext {
  /** The worker's concurrency: how many deliveries it runs at once. */
  readonly concurrency: number;
}

export interface SourceStatus {
  /** Connected and taking work (false while reconnecting). */
  readonly connected: boolean;
  /** Why the broker holds this worker back now (a memory or disk alarm), else null. */
  readonly blocked: string | null;
}

export interface QueueDepth {
  /** Ready to be received now. */
  readonly waiting: number;
  /** Leased by some worker (this one included). */
  readonly inFlight?: number;
  /** Scheduled for later (delays, backoff). */
  readonly delayed?: number;
}

export interface ReleaseOptions {
  /** Make the delivery visible again only after this many ms (default 0: at once). */
  readonly delayMs?: number;
}

export interface Delivery extends CheckpointCapable {
  /** Backend message id, stable across redeliveries where the backend has one. */
  readonly id: string;
  /** Decoded message body handed to the handler. */
  readonly payload: unknown;
  /** 1 for the first delivery; counts deliveries that ended in failure (not releases) where the backend allows. */
  readonly attempt: number;
  /**
   * Set when the body could not be decoded: the runtime fails the delivery through the backend's
   * failure path without calling the handler (a malformed message never crashes the worker).
   */
  readonly decodeError?: Error;
  /** Renew the lease for `ms` from now. Rejects when the lease is gone (lock lost, channel closed). */
  extend(ms: number): Promise<void>;
  /** The handler succeeded: remove the message. `result` is what the handler returned. */
  ack(result?: unknown): Promise<void>;
  /** Hand the message back for another worker, without consuming an attempt where the backend allows. */
  release(options?: ReleaseOptions): Promise<void>;
  /** The handler failed: the backend's retry / dead-letter path. */
  fail(error: Error): Promise<void>;
}
