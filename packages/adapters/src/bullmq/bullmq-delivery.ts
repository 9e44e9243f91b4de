import type { Job } from "bullmq";
import { IllegalStateError, LeaseLostError, SourceError, coerceError } from "@quiesce/sdk";
import type { Delivery, ReleaseOptions } from "@quiesce/sdk";
import { checkpointOf } from "./checkpoints.js";

/** What a delivery needs from its source. */
export interface DeliveryHost {
  /** True while the source takes work: an ack then fetches the next job in the same script. */
  readonly fetchNext: boolean;
  /** Take over the next job a finishing script handed back (held for the next receive). */
  adopt(next: readonly unknown[], token: string): Promise<void>;
  /** An error BullMQ will not retry (its `UnrecoverableError`). */
  unrecoverable(message: string): Error;
  /** Store a checkpoint in the job's hash while `token` holds its lock: 1 stored, 0 lock not ours, -1 job gone. */
  saveCheckpoint(jobId: string, token: string, data: string): Promise<number>;
  dropCheckpoint(jobId: string): Promise<void>;
}

/**
 * BullMQ's script results for "this token does not hold this job" (bullmq's ErrorCode enum):
 * the job is gone, its lock is gone, it is no longer active, or another token holds its lock.
 * Every one means the lease was lost: the stalled-job check or another worker owns the job now.
 */
const lostLockCodes = new Set([-1, -2, -3, -6]);
/** A parent job (a BullMQ flow) whose children are pending (-4) or failed (-9) cannot complete. */
const cannotCompleteCodes = new Set([-4, -9]);

type SettledBy = "ack" | "release" | "fail";

/**
 * One job this worker holds under its own lock token. The token is checked by every BullMQ script
 * below, inside Redis: a holder whose lock expired can neither complete nor fail the job.
 */
export class BullmqDelivery implements Delivery {
  readonly id: string;
  readonly payload: unknown;
  readonly attempt: number;
  readonly decodeError?: Error;
  readonly lastCheckpoint: string | undefined;
  readonly #job: Job;
  readonly #token: string;
  readonly #host: DeliveryHost;
  #settledBy: SettledBy | undefined;
  /** The job's hash holds a checkpoint (read with it, or written here): ack and fail remove it. */
  #checkpointed: boolean;

  constructor(job: Job, token: string, host: DeliveryHost, decodeError: Error | undefined) {
    this.id = String(job.id);
    this.payload = job.data;
    // attemptsMade counts finished attempts (completions and failures), never releases: a job
    // handed back by a drain starts again at the same attempt: a drain never costs a retry.
    this.attempt = job.attemptsMade + 1;
    if (decodeError) this.decodeError = decodeError;
    this.lastCheckpoint = checkpointOf(job);
    this.#checkpointed = this.lastCheckpoint !== undefined;
    this.#job = job;
    this.#token = token;
    this.#host = host;
  }

  async extend(ms: number): Promise<void> {
    if (!(ms > 0 && Number.isFinite(ms))) throw new RangeError(`BullMQ source extend(ms): ms must be a positive finite number, got ${ms}`);
    if (this.#settledBy) throw new IllegalStateError(`BullMQ source: extend() on delivery ${this.id}, which was already settled by ${this.#settledBy}()`);
    let extended: unknown;
    try {
      extended = await this.#job.extendLock(this.#token, Math.ceil(ms));
    } catch (thrown) {
      throw new SourceError(`BullMQ extendLock failed for job ${this.id}: ${coerceError(thrown).message}`, { cause: thrown });
    }
    if (Number(extended) !== 1) {
      throw new LeaseLostError(`BullMQ extendLock: job ${this.id} is no longer locked by this worker (the lock expired; the stalled-job check or another worker has it)`);
    }
  }

  async checkpoint(data: string): Promise<void> {
    if (this.#settledBy) throw new IllegalStateError(`BullMQ source: checkpoint() on delivery ${this.id}, which was already settled by ${this.#settledBy}()`);
    let stored: number;
    try {
      stored = await this.#host.saveCheckpoint(this.id, this.#token, data);
    } catch (thrown) {
      throw new SourceError(`BullMQ checkpoint failed for job ${this.id}: ${coerceError(thrown).message}`, { cause: thrown });
    }
    if (stored !== 1) {
      const why = stored === 0 ? "is no longer locked by this worker" : "no longer exists";
      throw new LeaseLostError(`BullMQ checkpoint: job ${this.id} ${why}; the checkpoint was not stored`);
    }
    this.#checkpointed = true;
  }

  async ack(result?: unknown): Promise<void> {
    this.#claim("ack");
    const fetchNext = this.#host.fetchNext;
    let next: unknown;
    try {
      next = await this.#job.moveToCompleted(result, this.#token, fetchNext);
    } catch (thrown) {
      // A job that cannot complete is failed instead, as BullMQ's own worker does, rather than
      // left active until its lock expires: a result that is not JSON (BullMQ serialises it
      // before any Redis call), or a flow parent whose children are pending or failed.
      if (thrown instanceof TypeError) {
        throw await this.#failInstead(new Error(`the handler's result cannot be stored as JSON: ${thrown.message}`, { cause: thrown }));
      }
      const code = (thrown as { code?: unknown } | null)?.code;
      if (typeof code === "number" && cannotCompleteCodes.has(code)) throw await this.#failInstead(coerceError(thrown));
      throw settleError("moveToCompleted", this.id, thrown);
    }
    // After the completion: a crash in between leaves a stale checkpoint on a completed job, which
    // nothing reads, rather than a job that would resume from zero.
    if (this.#checkpointed) await this.#dropCheckpoint();
    if (fetchNext && Array.isArray(next)) await this.#host.adopt(next, this.#token);
  }

  async release(options?: ReleaseOptions): Promise<void> {
    const delayMs = options?.delayMs ?? 0;
    if (!(delayMs >= 0 && Number.isFinite(delayMs))) throw new RangeError(`BullMQ source release(): delayMs must be a finite number of ms >= 0, got ${delayMs}`);
    this.#claim("release");
    try {
      // Neither path touches attemptsMade: moveToWait is BullMQ's "back to wait" for rate-limited
      // jobs (at the head of the list, so another worker takes it next), and moveToDelayed from a
      // job is called with skipAttempt. Both check and remove our lock atomically.
      if (delayMs > 0) await this.#job.moveToDelayed(Date.now() + Math.ceil(delayMs), this.#token);
      else await this.#job.moveToWait(this.#token);
    } catch (thrown) {
      const error = settleError(delayMs > 0 ? "moveToDelayed" : "moveToWait", this.id, thrown);
      // After a lost lock the job is already back in the queue or with its next holder: there is
      // nothing to hand back, and nothing was lost.
      if (error instanceof LeaseLostError) return;
      throw error;
    }
  }

  async fail(error: Error): Promise<void> {
    this.#claim("fail");
    // Undecodable data fails the same way on every attempt: do not spend the retries on it.
    const reason = this.decodeError ? this.#host.unrecoverable(this.decodeError.message) : error;
    // Before the move: the retry may be fetched by another worker the moment the job is back, and
    // it must start from zero (the state a failed attempt checkpointed may be what made it fail).
    if (this.#checkpointed) await this.#dropCheckpoint();
    try {
      // moveToFailed applies the job's attempts and backoff: retried (wait or delayed) or failed.
      await this.#job.moveToFailed(reason, this.#token, false);
    } catch (thrown) {
      throw settleError("moveToFailed", this.id, thrown);
    }
  }

  #claim(op: SettledBy): void {
    // The runtime settles each delivery once; a second settle is a bug, and is made loud.
    if (this.#settledBy) throw new IllegalStateError(`BullMQ source: ${op}() on delivery ${this.id}, which was already settled by ${this.#settledBy}()`);
    this.#settledBy = op;
  }

  async #dropCheckpoint(): Promise<void> {
    try {
      await this.#host.dropCheckpoint(this.id);
    } catch (thrown) {
      throw new SourceError(`BullMQ checkpoint removal failed for job ${this.id}: ${coerceError(thrown).message}`, { cause: thrown });
    }
  }

  async #failInstead(reason: Error): Promise<Error> {
    try {
      await this.#job.moveToFailed(reason, this.#token, false);
    } catch (thrown) {
      return settleError("moveToFailed", this.id, thrown);
    }
    return new SourceError(`BullMQ moveToCompleted refused for job ${this.id}: ${reason.message}; the job was moved to failed instead`, { cause: reason });
  }
}

/** Lock refusals become LeaseLostError (the runtime never counts them as done); the rest SourceError. */
export function settleError(operation: string, jobId: string, thrown: unknown): Error {
  const error = coerceError(thrown);
  const code = (error as { code?: unknown }).code;
  if (typeof code === "number" && lostLockCodes.has(code)) {
    return new LeaseLostError(`BullMQ ${operation} refused for job ${jobId}: ${error.message} (this worker's lock is gone)`, { cause: error });
  }
  return new SourceError(`BullMQ ${operation} failed for job ${jobId}: ${error.message}`, { cause: error });
}
