/**
 * The worker's running totals, kept by the places that count (the job runner, the receive loop,
 * the lease keeper's callbacks) and read by everyone else through the status snapshot only.
 */
export interface Counters {
  received: number;
  completed: number;
  failed: number;
  released: number;
  interrupted: number;
  leaseExtensions: number;
  leaseLost: number;
  /** Checkpoints stored by handlers. */
  checkpoints: number;
  /** Jobs that started from a checkpoint of an earlier attempt. */
  resumed: number;
  /** Seconds of earlier attempts' work that resumes did not redo. */
  resumeSavedSeconds: number;
}

export function createCounters(): Counters {
  return { received: 0, completed: 0, failed: 0, released: 0, interrupted: 0, leaseExtensions: 0, leaseLost: 0, checkpoints: 0, resumed: 0, resumeSavedSeconds: 0 };
}
