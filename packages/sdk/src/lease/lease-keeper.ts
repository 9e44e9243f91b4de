import { coerceError, LeaseLostError } from "../errors.js";
import { isDue, tickIntervalMs } from "./schedule.js";

/** What the keeper reads and writes on a held job: its lease, and nothing else of the job. */
export interface LeasedJob {
  readonly delivery: { readonly id: string; extend(ms: number): Promise<void> };
  /** Settled (or being settled): needs no lease any more. */
  readonly claimed: boolean;
  /** Epoch ms of the last successful renewal (or receipt). */
  leaseRenewedAt: number;
  /** Lease length asked for at the last renewal. */
  leaseMs: number;
  /** False while a renewal of this job is already in flight (or it is settled). */
  beginRenewal(): boolean;
  endRenewal(): void;
}

/** The narrow view the keeper needs: which jobs hold a lease, and where to report. */
export interface LeaseKeeperContext<J extends LeasedJob> {
  jobs(): Iterable<J>;
  extended(count: number): void;
  lost(job: J, error: LeaseLostError): void;
}

/**
 * Renews every held delivery's lease at about half its length, in one batch per tick. A
 * setTimeout chain re-armed after the batch settles: a slow backend delays the next tick instead
 * of stacking renewals behind it (sqs-consumer's setInterval heartbeat is the counter-example).
 */
export class LeaseKeeper<J extends LeasedJob = LeasedJob> {
  readonly #leaseMs: number;
  readonly #ctx: LeaseKeeperContext<J>;
  #timer: NodeJS.Timeout | null = null;
  #stopped = true;

  constructor(leaseMs: number, ctx: LeaseKeeperContext<J>) {
    this.#leaseMs = leaseMs;
    this.#ctx = ctx;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Renew one job now for `ms` (ctx.extendLease); the keeper's schedule follows the new length. */
  async extend(job: J, ms: number): Promise<void> {
    if (job.claimed) throw new LeaseLostError(`extendLease: delivery ${job.delivery.id} is already settled`);
    const at = Date.now();
    try {
      await job.delivery.extend(ms);
    } catch (thrown) {
      const error = asLeaseLost(job, thrown);
      if (!job.claimed) this.#ctx.lost(job, error);
      throw error;
    }
    job.leaseRenewedAt = at;
    job.leaseMs = ms;
    this.#ctx.extended(1);
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#tick(), tickIntervalMs(this.#leaseMs));
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    const now = Date.now();
    const renewals: Promise<boolean>[] = [];
    for (const job of this.#ctx.jobs()) {
      if (!isDue(now, job.leaseRenewedAt, job.leaseMs) || !job.beginRenewal()) continue;
      renewals.push(this.#renew(job, now));
    }
    if (renewals.length > 0) {
      const renewed = (await Promise.all(renewals)).filter(Boolean).length;
      if (renewed > 0) this.#ctx.extended(renewed);
    }
    this.#arm();
  }

  async #renew(job: J, now: number): Promise<boolean> {
    // Renew for the default lease: a longer one asked through extendLease stays in force until
    // its half-life comes round, then the normal schedule resumes.
    const ms = Math.max(job.leaseMs, this.#leaseMs);
    try {
      await job.delivery.extend(ms);
      job.leaseRenewedAt = now;
      job.leaseMs = ms;
      return true;
    } catch (thrown) {
      // A delivery settled while its renewal was in flight needs no lease any more.
      if (!job.claimed) this.#ctx.lost(job, asLeaseLost(job, thrown));
      return false;
    } finally {
      job.endRenewal();
    }
  }
}

function asLeaseLost(job: LeasedJob, thrown: unknown): LeaseLostError {
  const error = coerceError(thrown);
  if (error instanceof LeaseLostError) return error;
  return new LeaseLostError(`lease renewal of delivery ${job.delivery.id} failed: ${error.message}`, { cause: error });
}
