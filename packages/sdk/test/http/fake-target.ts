import type { AdminTarget } from "../../src/http/routes.js";
import type { DrainReport, WorkerStatus } from "../../src/lifecycle/status.js";
import type { WorkerState } from "../../src/lifecycle/states.js";

export function makeStatus(overrides: Partial<WorkerStatus> = {}): WorkerStatus {
  return {
    state: "idle",
    queue: "emails",
    concurrency: 4,
    inFlight: 0,
    held: 0,
    completed: 7,
    failed: 1,
    released: 2,
    interrupted: 0,
    leaseExtensions: 3,
    leaseLost: 0,
    checkpoints: 0,
    resumed: 0,
    resumeSavedSeconds: 0,
    since: "2024-01-01T00:00:00.000Z",
    startedAt: "2024-01-01T00:00:00.000Z",
    oldestJobStartedAt: null,
    drainReason: null,
    drainDeadline: null,
    ...overrides,
  };
}

export function makeReport(overrides: Partial<DrainReport> = {}): DrainReport {
  return {
    reason: "http",
    exitCode: 0,
    path: "graceful",
    completed: 7,
    failed: 1,
    released: 2,
    interrupted: 0,
    durationMs: 1234,
    queueSeenEmpty: false,
    cleanupErrors: [],
    ...overrides,
  };
}

export interface FakeTarget extends AdminTarget {
  state: WorkerState;
  drainToken: string | null;
  readonly drainCalls: string[];
  /** What drain() returns; replace it with a deferred's promise to hold /drain. */
  drainResult: Promise<DrainReport>;
}

export function fakeTarget(options: { state?: WorkerState; drainToken?: string | null } = {}): FakeTarget {
  const target: FakeTarget = {
    state: options.state ?? "idle",
    drainToken: options.drainToken ?? null,
    drainCalls: [],
    drainResult: Promise.resolve(makeReport()),
    status: () => makeStatus({ state: target.state, inFlight: target.state === "busy" ? 2 : 0 }),
    drain: (reason) => {
      target.drainCalls.push(reason);
      return target.drainResult;
    },
    metrics: () => Promise.resolve({ contentType: "text/plain; version=0.0.4; charset=utf-8", body: "quiesce_jobs_in_flight 0\n" }),
  };
  return target;
}
