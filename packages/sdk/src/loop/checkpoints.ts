import { CheckpointError, LeaseLostError, coerceError } from "../errors.js";
import type { Counters } from "../lifecycle/counters.js";
import type { Logger } from "../logger.js";
import type { CheckpointStore } from "../source/checkpoint.js";
import type { Delivery } from "../source/source.js";

/** What a backend stores: the handler's value plus the counts a resume needs. */
export interface CheckpointRecord {
  /** The handler's value, as JSON.parse gives it back. */
  readonly value: unknown;
  /** Run time of every attempt up to this checkpoint, in ms: what a resume does not redo. */
  readonly workMs: number;
  /** Checkpoints written for this message so far: the higher one wins when two places hold one. */
  readonly seq: number;
}

/** The runtime's own bound, for backends that state none: a checkpoint is a cursor, not the data. */
export const defaultCheckpointMaxBytes = 1024 * 1024;

/** The job fields the checkpointer reads and writes. */
export interface CheckpointJob {
  readonly delivery: Delivery;
  readonly startedAt: number;
  readonly claimed: boolean;
  resume: CheckpointRecord | undefined;
  /** The last record this run stored (its seq and work). */
  written: CheckpointRecord | undefined;
}

export interface CheckpointerContext {
  readonly queue: string;
  readonly store: CheckpointStore | undefined;
  readonly counters: Counters;
  logger(): Logger;
}

/**
 * Reads a job's last checkpoint before its handler runs, writes new ones to every place that keeps
 * them (the delivery, the store), and forgets them once the job is acked or failed.
 */
export class Checkpointer {
  readonly #ctx: CheckpointerContext;

  constructor(ctx: CheckpointerContext) {
    this.#ctx = ctx;
  }

  /** True when a handler's checkpoints have somewhere to go. */
  supported(delivery: Delivery): boolean {
    return this.#ctx.store !== undefined || typeof delivery.checkpoint === "function";
  }

  /** Before the handler: find the newest checkpoint an earlier attempt left, and count the resume. */
  async prepare(job: CheckpointJob): Promise<void> {
    const { delivery } = job;
    let best = this.#decode(delivery.lastCheckpoint, delivery.id, "the message");
    const store = this.#ctx.store;
    if (store) {
      let stored: string | undefined;
      try {
        stored = await store.load(this.#key(delivery));
      } catch (thrown) {
        // Starting from zero is slower, never wrong: the job still runs.
        this.#ctx.logger().warn({ jobId: delivery.id, err: coerceError(thrown) }, "checkpoint store load failed: the job starts without it");
      }
      const fromStore = this.#decode(stored, delivery.id, "the store");
      if (fromStore && (!best || fromStore.seq > best.seq)) best = fromStore;
    }
    if (!best) return;
    job.resume = best;
    this.#ctx.counters.resumed++;
    this.#ctx.counters.resumeSavedSeconds += best.workMs / 1000;
  }

  /** ctx.checkpoint(value): serialise, bound, store everywhere; resolves once stored. */
  async write(job: CheckpointJob, value: unknown): Promise<void> {
    const { delivery } = job;
    if (job.claimed) throw new CheckpointError(`checkpoint for job ${delivery.id}: the job is no longer held by this worker (settled, released or its lease was lost)`);
    if (!this.supported(delivery)) {
      throw new CheckpointError(`checkpoint for job ${delivery.id}: source "${this.#ctx.queue}" keeps no checkpoints; give the worker checkpoints.store`);
    }
    const previous = job.written ?? job.resume;
    const record: CheckpointRecord = {
      value,
      workMs: (job.resume?.workMs ?? 0) + Math.max(0, Date.now() - job.startedAt),
      seq: (previous?.seq ?? 0) + 1,
    };
    const data = encode(record, delivery.id);
    const max = delivery.checkpointMaxBytes ?? defaultCheckpointMaxBytes;
    const bytes = Buffer.byteLength(data);
    if (bytes > max) throw new CheckpointError(`checkpoint for job ${delivery.id}: ${bytes} bytes as JSON, more than the ${max} this backend stores`);
    const writes: Promise<void>[] = [];
    if (delivery.checkpoint) writes.push(delivery.checkpoint(data));
    if (this.#ctx.store) writes.push(this.#ctx.store.save(this.#key(delivery), data));
    try {
      await Promise.all(writes);
    } catch (thrown) {
      const error = coerceError(thrown);
      const why = error instanceof LeaseLostError ? "the lease is gone" : "the backend refused it";
      throw new CheckpointError(`checkpoint for job ${delivery.id} not stored (${why}): ${error.message}`, { cause: error });
    }
    job.written = record;
    this.#ctx.counters.checkpoints++;
  }

  /** The job was acked or failed: its checkpoint must not outlive it. The backend drops its own. */
  async forget(job: CheckpointJob): Promise<void> {
    const store = this.#ctx.store;
    if (!store || (!job.resume && !job.written)) return;
    try {
      await store.delete(this.#key(job.delivery));
    } catch (thrown) {
      this.#ctx.logger().warn({ jobId: job.delivery.id, err: coerceError(thrown) }, "checkpoint store delete failed: a stale checkpoint stays behind");
    }
  }

  #key(delivery: Delivery): string {
    return `${this.#ctx.queue}:${delivery.id}`;
  }

  #decode(data: string | undefined, id: string, where: string): CheckpointRecord | undefined {
    if (data === undefined) return undefined;
    const record = decode(data);
    if (!record) this.#ctx.logger().warn({ jobId: id }, `checkpoint from ${where} is unreadable: the job starts without it`);
    return record;
  }
}

function encode(record: CheckpointRecord, id: string): string {
  // JSON.stringify would drop these silently, leaving a checkpoint without its value.
  const kind = typeof record.value;
  if (kind === "undefined" || kind === "function" || kind === "symbol") {
    throw new CheckpointError(`checkpoint for job ${id}: the value is not JSON-serialisable (got ${kind})`);
  }
  try {
    return JSON.stringify(record);
  } catch (thrown) {
    throw new CheckpointError(`checkpoint for job ${id}: the value is not JSON-serialisable: ${coerceError(thrown).message}`, { cause: thrown });
  }
}

export function decode(data: string): CheckpointRecord | undefined {
  try {
    const parsed = JSON.parse(data) as Partial<CheckpointRecord> | null;
    if (typeof parsed !== "object" || parsed === null || !("value" in parsed)) return undefined;
    const workMs = typeof parsed.workMs === "number" && parsed.workMs >= 0 ? parsed.workMs : 0;
    const seq = typeof parsed.seq === "number" ? parsed.seq : 0;
    return { value: parsed.value, workMs, seq };
  } catch {
    return undefined;
  }
}
