import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, IllegalStateError, LeaseLostError } from "../../src/errors.js";
import type { MemorySource, MemorySourceOptions } from "../../src/source/memory-source.js";
import { createMemorySource } from "../../src/index.js";
import { describeSourceConformance, pollUntil } from "../../src/testing/index.js";

describeSourceConformance("memory", async () => {
  const source = createMemorySource({ pollMs: 5_000 });
  return {
    source,
    publish: async (payload, options) => void source.add(payload, options),
    cleanup: async () => undefined,
    capabilities: { retries: { maxAttempts: 3 }, deadLetters: async () => source.deadLetters() },
  };
});

describe("memory source", () => {
  const started: MemorySource[] = [];
  const make = async (options?: MemorySourceOptions): Promise<MemorySource> => {
    const source = createMemorySource(options);
    await source.start();
    started.push(source);
    return source;
  };
  const receive = (source: MemorySource, max = 1, ms = 2_000) => source.receive(max, AbortSignal.timeout(ms));
  afterEach(async () => {
    for (const source of started.splice(0)) await source.stop();
  });

  it("dead-letters a message once maxAttempts failures are used up, with the last error", async () => {
    const source = await make({ maxAttempts: 2 });
    const id = source.add({ n: 1 });
    const [first] = await receive(source);
    await first!.fail(new Error("first"));
    const [second] = await receive(source);
    expect(second!.attempt).toBe(2);
    await second!.fail(new Error("second"));
    expect(source.deadLetters()).toEqual([{ id, payload: { n: 1 }, attempts: 2, error: "second" }]);
    expect(source.snapshot()).toEqual({ waiting: 0, inFlight: 0, delayed: 0, completed: 0, deadLettered: 1 });
  });

  it("waits retryDelayMs before retrying a failure", async () => {
    const source = await make({ retryDelayMs: 150 });
    source.add("x");
    const [first] = await receive(source);
    await first!.fail(new Error("boom"));
    expect(await source.depth()).toEqual({ waiting: 0, inFlight: 0, delayed: 1 });
    const start = performance.now();
    const [again] = await receive(source);
    expect(performance.now() - start).toBeGreaterThanOrEqual(140);
    expect(again!.attempt).toBe(2);
  });

  it("a delayed add wakes a pending receive when it becomes ready", async () => {
    const source = await make({ pollMs: 5_000 });
    const start = performance.now();
    source.add("later", { delayMs: 150 });
    expect(await source.depth()).toEqual({ waiting: 0, inFlight: 0, delayed: 1 });
    const [delivery] = await receive(source, 1, 3_000);
    const elapsed = performance.now() - start;
    expect(delivery!.payload).toBe("later");
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(1_000);
  });

  it("leases expire on their own; the stale delivery cannot ack, extend or fail, and its release is a no-op", async () => {
    const source = await make({ leaseMs: 100 });
    source.add("job");
    const [stale] = await receive(source);
    const again = await pollUntil(async () => (await receive(source, 1, 200))[0], { message: "redelivery" });
    expect(again.id).toBe(stale!.id);
    expect(again.attempt).toBe(1); // an expiry is an interruption, not a failure
    await expect(stale!.ack()).rejects.toBeInstanceOf(LeaseLostError);
    await expect(stale!.extend(1_000)).rejects.toBeInstanceOf(LeaseLostError);
    await expect(stale!.fail(new Error("x"))).rejects.toBeInstanceOf(LeaseLostError);
    await stale!.release(); // must not take the message from its new holder
    expect(await source.depth()).toEqual({ waiting: 0, inFlight: 1, delayed: 0 });
    await again.ack("done");
    expect(source.completed()).toEqual([{ id: again.id, result: "done" }]);
  });

  it("extend moves the expiry, so a renewed lease outlives leaseMs", async () => {
    const source = await make({ leaseMs: 100 });
    source.add("job");
    const [delivery] = await receive(source);
    await delivery!.extend(5_000);
    expect(await receive(source, 1, 300)).toEqual([]);
    await delivery!.ack();
  });

  it("settling a delivery twice, or extending a settled one, rejects with IllegalStateError", async () => {
    const source = await make();
    source.add("job");
    const [delivery] = await receive(source);
    await delivery!.ack();
    await expect(delivery!.ack()).rejects.toThrow(/already settled by ack\(\)/);
    await expect(delivery!.release()).rejects.toBeInstanceOf(IllegalStateError);
    await expect(delivery!.fail(new Error("x"))).rejects.toBeInstanceOf(IllegalStateError);
    await expect(delivery!.extend(1_000)).rejects.toBeInstanceOf(IllegalStateError);
  });

  it("release puts the message back at the front, and keeps its attempt", async () => {
    const source = await make();
    source.addMany(["a", "b"]);
    const [a] = await receive(source);
    await a!.release();
    const [again] = await receive(source);
    expect(again!.payload).toBe("a");
    expect(again!.attempt).toBe(1);
  });

  it("rejects receive before start and after stop; pause answers [] and start resumes with the queue intact", async () => {
    const source = createMemorySource();
    source.add("kept");
    await expect(receive(source)).rejects.toThrow(/call start\(\) first/);
    await source.start();
    await source.pause();
    expect(await receive(source)).toEqual([]);
    await source.stop();
    await expect(receive(source)).rejects.toBeInstanceOf(IllegalStateError);
    await source.start();
    started.push(source);
    expect((await receive(source))[0]!.payload).toBe("kept");
  });

  it("keepCompleted bounds what completed() remembers, not the count", async () => {
    const source = await make({ keepCompleted: 2 });
    source.addMany([1, 2, 3, 4, 5]);
    for (const delivery of await receive(source, 5)) await delivery.ack(delivery.payload);
    expect(source.completed().map((job) => job.result)).toEqual([4, 5]);
    expect(source.snapshot().completed).toBe(5);
  });

  it("validates options, naming the option and the value", () => {
    expect(() => createMemorySource({ leaseMs: 0 })).toThrow(ConfigError);
    expect(() => createMemorySource({ leaseMs: 0 })).toThrow("memory source leaseMs must be a positive finite number of ms, got 0");
    expect(() => createMemorySource({ maxAttempts: 1.5 })).toThrow("memory source maxAttempts must be a positive integer, got 1.5");
    expect(() => createMemorySource({ pollMs: -1 })).toThrow("memory source pollMs must be a finite number of ms >= 0, got -1");
    expect(() => createMemorySource({ keepCompleted: -1 })).toThrow(/keepCompleted must be an integer >= 0 or Infinity/);
  });

  it("stays O(1) per job: 100k add + receive + ack well under a second", async () => {
    const source = await make({ keepCompleted: 0 });
    const total = 100_000;
    const signal = new AbortController().signal;
    const start = performance.now();
    for (let i = 0; i < total; i++) source.add(i);
    let acked = 0;
    while (acked < total) {
      for (const delivery of await source.receive(100, signal)) {
        await delivery.ack();
        acked++;
      }
    }
    const ms = performance.now() - start;
    console.log(`memory source: ${total} add+receive+ack in ${ms.toFixed(0)} ms`);
    expect(source.snapshot()).toEqual({ waiting: 0, inFlight: 0, delayed: 0, completed: total, deadLettered: 0 });
    // The goal is ~1 s for a loaded CI runner; locally this takes a fraction of it.
    expect(ms).toBeLessThan(1_500);
  });
});
