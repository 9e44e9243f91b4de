import { afterEach, describe, expect, expectTypeOf, it, vi } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { noopLogger } from "../../src/logger.js";
import { poolResource, type EndablePool } from "../../src/resources/pool.js";
import { closeInReverse } from "../../src/drain/cleanup.js";
import type { Resource } from "../../src/resources/resources.js";

/** A pool whose end() we settle by hand, counting calls. */
function manualPool() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const ended = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const pool = { calls: 0, end: () => (pool.calls++, ended) };
  return { pool, resolve, reject };
}

/** Settled state of a promise without waiting for it. */
async function stateOf(promise: Promise<unknown>): Promise<"pending" | "fulfilled" | "rejected"> {
  const pending = Symbol("pending");
  try {
    return (await Promise.race([promise, Promise.resolve(pending)])) === pending ? "pending" : "fulfilled";
  } catch {
    return "rejected";
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe("poolResource", () => {
  it("ends the pool once: every close() gets the same promise, before and after it settles", async () => {
    const { pool, resolve } = manualPool();
    const resource = poolResource("pg", pool);
    expect(resource.name).toBe("pg");
    const first = resource.close();
    const second = resource.close();
    expect(second).toBe(first);
    expect(pool.calls).toBe(1);
    expect(await stateOf(first)).toBe("pending");
    resolve();
    await expect(first).resolves.toBeUndefined();
    expect(resource.close()).toBe(first);
    expect(pool.calls).toBe(1);
  });

  it("calls end() at once, not on a later tick (the drain's cleanup is ordered)", () => {
    const { pool } = manualPool();
    void poolResource("pg", pool).close();
    expect(pool.calls).toBe(1);
  });

  it("accepts a pool whose end() returns nothing", async () => {
    let ended = false;
    await poolResource("sync", { end: () => void (ended = true) }).close();
    expect(ended).toBe(true);
  });

  it("a throwing end() rejects close() with that error, once, and is not called again", async () => {
    let calls = 0;
    const resource = poolResource("broken", {
      end() {
        calls++;
        throw new Error("end exploded");
      },
    });
    const first = resource.close();
    await expect(first).rejects.toThrow("end exploded");
    expect(resource.close()).toBe(first);
    expect(calls).toBe(1);
  });

  it("a rejecting end() rejects close() with the pool's own error", async () => {
    const { pool, reject } = manualPool();
    const closing = poolResource("pg", pool).close();
    reject(new Error("Called end on pool more than once"));
    await expect(closing).rejects.toThrow("Called end on pool more than once");
  });

  it("a hanging end() rejects after 5000 ms by default, naming the pool, and not a moment before", async () => {
    vi.useFakeTimers();
    const { pool } = manualPool();
    const closing = poolResource("orders-db", pool).close();
    const outcome = closing.then(
      () => "resolved",
      (error: unknown) => error,
    );
    await vi.advanceTimersByTimeAsync(4999);
    expect(await stateOf(closing)).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    const error = await outcome;
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(
      'pool "orders-db" did not end within 5000 ms (a connection is still checked out or stuck); moving on without it',
    );
  });

  it("closeTimeoutMs sets the bound (real timers)", async () => {
    const { pool } = manualPool();
    const t0 = performance.now();
    await expect(poolResource("pg", pool, { closeTimeoutMs: 50 }).close()).rejects.toThrow(/pool "pg" did not end within 50 ms/);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
  });

  it("an end() that rejects after the bound is not an unhandled rejection; close() keeps the timeout error", async () => {
    vi.useFakeTimers();
    const { pool, reject } = manualPool();
    const closing = poolResource("pg", pool, { closeTimeoutMs: 100 }).close();
    const outcome = closing.catch((error: unknown) => (error as Error).message);
    await vi.advanceTimersByTimeAsync(100);
    reject(new Error("late failure"));
    await vi.advanceTimersByTimeAsync(0);
    expect(await outcome).toMatch(/did not end within 100 ms/);
  });

  it("leaves no timer behind once end() settled, so it never delays the process exit", async () => {
    vi.useFakeTimers();
    const { pool, resolve } = manualPool();
    const closing = poolResource("pg", pool).close();
    expect(vi.getTimerCount()).toBe(1);
    resolve();
    await closing;
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])("rejects closeTimeoutMs %s with a message naming the option and the value", (value) => {
    const make = () => poolResource("pg", { end: () => undefined }, { closeTimeoutMs: value });
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(`poolResource("pg"): closeTimeoutMs must be a positive number of ms, got ${String(value)}`);
  });

  it("in closeInReverse: a hanging pool is reported by name and the resources before it still close", async () => {
    vi.useFakeTimers();
    const order: string[] = [];
    const cache: Resource = { name: "cache", close: async () => void order.push("cache") };
    const hanging = poolResource("pg", { end: () => new Promise<void>(() => undefined) }, { closeTimeoutMs: 200 });
    const errors = closeInReverse([cache, hanging], noopLogger);
    await vi.advanceTimersByTimeAsync(200);
    expect(await errors).toEqual(['pg: pool "pg" did not end within 200 ms (a connection is still checked out or stuck); moving on without it']);
    expect(order).toEqual(["cache"]);
  });

  it("types: fits pg-style overloaded end(), promise pools and void pools, without depending on a driver", () => {
    interface PgLikePool {
      end(): Promise<void>;
      end(callback: () => void): void;
      readonly totalCount: number;
    }
    expectTypeOf<PgLikePool>().toExtend<EndablePool>();
    expectTypeOf<{ end(): Promise<void> }>().toExtend<EndablePool>();
    expectTypeOf<{ end(): void }>().toExtend<EndablePool>();
    expectTypeOf<{ close(): Promise<void> }>().not.toExtend<EndablePool>();
    expectTypeOf(poolResource).returns.toEqualTypeOf<Resource>();
  });
});
