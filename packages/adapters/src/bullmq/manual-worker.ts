import type { Job, JobJson, Worker, WorkerOptions } from "bullmq";
import type { BullmqModule } from "./load.js";

/**
 * A BullMQ `Worker` without a processor, driven by hand (`getNextJob` with a token per job), plus
 * the two things the manual API leaves out, reached through BullMQ's protected subclass hooks:
 * - `adopt`: the finishing scripts (`moveToCompleted(…, fetchNext)`) hand back the next job already
 *   locked; BullMQ's own loop turns that into a Job with `nextJobFromJobData`, which also keeps the
 *   worker's "drained" flag (block or not on the next fetch) and job-scheduler iterations right.
 * - `decodeErrorOf`: a job whose stored data is not JSON would make `getNextJob` throw after the
 *   job was moved to active, and then stall and come back forever. It is created with `null` data
 *   and the parse error, so the runtime fails it without calling the handler.
 * - `rateLimitedForMs`: under a rate limit `getNextJob` answers "no job" at once, without asking
 *   Redis, until the limit lifts; BullMQ's own loop sleeps meanwhile, and so must a manual one.
 */
export interface ManualWorker extends Worker {
  adopt(next: readonly unknown[], token: string): Promise<Job | undefined>;
  decodeErrorOf(job: Job): Error | undefined;
  rateLimitedForMs(): number;
}

type WorkerBase = new (name: string, processor: null, options: WorkerOptions) => Worker & {
  createJob(data: JobJson, jobId: string): Job;
  nextJobFromJobData(jobData?: JobJson, jobId?: string, token?: string): Promise<Job | undefined>;
};

const subclasses = new WeakMap<BullmqModule, new (name: string, options: WorkerOptions) => ManualWorker>();

export function createManualWorker(bullmq: BullmqModule, name: string, options: WorkerOptions): ManualWorker {
  let Subclass = subclasses.get(bullmq);
  if (!Subclass) {
    Subclass = defineSubclass(bullmq);
    subclasses.set(bullmq, Subclass);
  }
  return new Subclass(name, options);
}

function defineSubclass(bullmq: BullmqModule): new (name: string, options: WorkerOptions) => ManualWorker {
  // The protected hooks are typed as public here: TypeScript cannot see protected members of a
  // class that is only known through a dynamically imported module's type.
  const Base = bullmq.Worker as unknown as WorkerBase;
  return class QuiesceManualWorker extends Base implements ManualWorker {
    readonly #decodeErrors = new WeakMap<Job, Error>();

    constructor(name: string, options: WorkerOptions) {
      super(name, null, options);
    }

    override createJob(data: JobJson, jobId: string): Job {
      try {
        return super.createJob(data, jobId);
      } catch (thrown) {
        if (!(thrown instanceof SyntaxError)) throw thrown;
        const job = super.createJob({ ...data, data: "null" }, jobId);
        this.#decodeErrors.set(job, new Error(`BullMQ job ${jobId}: data is not valid JSON: ${thrown.message}`, { cause: thrown }));
        return job;
      }
    }

    adopt(next: readonly unknown[], token: string): Promise<Job | undefined> {
      const [jobData, jobId] = next;
      return this.nextJobFromJobData((jobData ?? undefined) as JobJson | undefined, jobId ? String(jobId) : undefined, token);
    }

    decodeErrorOf(job: Job): Error | undefined {
      return this.#decodeErrors.get(job);
    }

    rateLimitedForMs(): number {
      // BullMQ keeps the limit's end in a private field (the worker's own loop reads it the same
      // way). Should a later version rename it, this reads 0 and the caller's yield still keeps
      // the event loop turning.
      const until = (this as unknown as { limitUntil?: unknown }).limitUntil;
      return typeof until === "number" ? Math.max(0, until - Date.now()) : 0;
    }
  } as unknown as new (name: string, options: WorkerOptions) => ManualWorker;
}
