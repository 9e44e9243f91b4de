import { describe, expectTypeOf, it } from "vitest";
import type { ConfigError, QuiesceError } from "../../src/index.js";
import {
  createMemorySource,
  createWorker,
  type DrainReport,
  type JobContext,
  type Source,
  type WorkerEvents,
  type WorkerStatus,
} from "../../src/index.js";

describe("public API types", () => {
  it("types the payload through to the handler", () => {
    createWorker<{ to: string }>({
      handler: (payload, ctx) => {
        expectTypeOf(payload).toEqualTypeOf<{ to: string }>();
        expectTypeOf(ctx).toEqualTypeOf<JobContext>();
        expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
        expectTypeOf(ctx.draining).toEqualTypeOf<AbortSignal>();
        expectTypeOf(ctx.extendLease).toEqualTypeOf<(ms: number) => Promise<void>>();
      },
      http: false,
    });
  });

  it("returns typed reports, statuses and events", () => {
    const worker = createWorker({ handler: () => undefined, http: false });
    // Type-level only: run() would really start the worker (and exit the process).
    expectTypeOf(worker.run).returns.toEqualTypeOf<Promise<DrainReport>>();
    expectTypeOf(worker.drain).returns.toEqualTypeOf<Promise<DrainReport>>();
    expectTypeOf(worker.status()).toEqualTypeOf<WorkerStatus>();
    expectTypeOf(worker.status().state).toEqualTypeOf<"starting" | "idle" | "busy" | "draining" | "stopped">();
    worker.on("job:failed", (event) => {
      expectTypeOf(event).toEqualTypeOf<WorkerEvents["job:failed"]>();
      expectTypeOf(event.error).toEqualTypeOf<Error>();
    });
    // @ts-expect-error: unknown event names are rejected
    worker.on("job:exploded", () => undefined);
    expectTypeOf(worker[Symbol.asyncDispose]).returns.toEqualTypeOf<Promise<void>>();
  });

  it("accepts any Source and rejects malformed options", () => {
    expectTypeOf(createMemorySource()).toMatchTypeOf<Source>();
    // @ts-expect-error: a handler is required
    createWorker({ concurrency: 2 });
    // @ts-expect-error: concurrency is a number
    createWorker({ handler: () => undefined, concurrency: "2" });
  });

  it("keeps error classes branchable", () => {
    expectTypeOf<ConfigError>().toMatchTypeOf<QuiesceError>();
    expectTypeOf<ConfigError["code"]>().toEqualTypeOf<QuiesceError["code"]>();
  });
});
