import type { Job } from "bullmq";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Fetcher, type FetcherContext } from "../../src/bullmq/fetcher.js";

const job = (id: string): Job => ({ id, token: `t${id}` }) as unknown as Job;

/** A fetch the test resolves by hand, like a BullMQ long poll. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function setup(leaseMs = 30_000) {
  const fetches: Array<ReturnType<typeof deferred<Job | undefined>>> = [];
  const ctx = {
    fetch: vi.fn(() => {
      const d = deferred<Job | undefined>();
      fetches.push(d);
      return d.promise;
    }),
    interrupt: vi.fn(),
    release: vi.fn(async (_job: Job) => undefined),
    report: vi.fn(),
    leaseMs,
  } satisfies FetcherContext;
  return { fetcher: new Fetcher(ctx), ctx, fetches };
}

const never = new AbortController().signal;

afterEach(() => {
  vi.useRealTimers();
});

describe("Fetcher", () => {
  it("returns held jobs (an ack's next job) at once, at most max, without fetching", async () => {
    const { fetcher, ctx } = setup();
    for (const id of ["1", "2", "3"]) await fetcher.hold(job(id));
    expect((await fetcher.take(2, never)).map((j) => j.id)).toEqual(["1", "2"]);
    expect((await fetcher.take(5, never)).map((j) => j.id)).toEqual(["3"]);
    expect(ctx.fetch).not.toHaveBeenCalled();
  });

  it("fetches when nothing is held, and resolves [] when the poll ends empty", async () => {
    const { fetcher, fetches } = setup();
    const first = fetcher.take(1, never);
    await vi.waitFor(() => expect(fetches).toHaveLength(1));
    fetches[0]?.resolve(job("1"));
    expect((await first).map((j) => j.id)).toEqual(["1"]);
    const second = fetcher.take(1, never);
    await vi.waitFor(() => expect(fetches).toHaveLength(2));
    fetches[1]?.resolve(undefined);
    expect(await second).toEqual([]);
  });

  it("an abort returns [] at once; the fetch keeps running and its job is held for the next take", async () => {
    const { fetcher, ctx, fetches } = setup();
    const controller = new AbortController();
    const pending = fetcher.take(1, controller.signal);
    controller.abort();
    expect(await pending).toEqual([]);
    expect(ctx.interrupt).not.toHaveBeenCalled();
    fetches[0]?.resolve(job("9"));
    await fetcher.settled();
    expect((await fetcher.take(1, never)).map((j) => j.id)).toEqual(["9"]);
    expect(ctx.fetch).toHaveBeenCalledTimes(1);
  });

  it("one fetch at a time: a second take joins the one in flight", async () => {
    const { fetcher, ctx, fetches } = setup();
    const a = fetcher.take(1, never);
    const b = fetcher.take(1, never);
    await vi.waitFor(() => expect(fetches).toHaveLength(1));
    expect(ctx.fetch).toHaveBeenCalledTimes(1);
    await fetcher.hold(job("held"));
    fetches[0]?.resolve(job("fetched"));
    const got = [...(await a), ...(await b)].map((j) => j.id).sort();
    expect(got).toEqual(["fetched", "held"]);
  });

  it("a job held while a take waits wakes it (an ack landed during a long poll)", async () => {
    const { fetcher } = setup();
    const pending = fetcher.take(1, never);
    await fetcher.hold(job("5"));
    expect((await pending).map((j) => j.id)).toEqual(["5"]);
  });

  it("a failed fetch rejects the take once", async () => {
    const { fetcher, fetches } = setup();
    const pending = fetcher.take(1, never);
    await vi.waitFor(() => expect(fetches).toHaveLength(1));
    fetches[0]?.reject(new Error("NOSCRIPT"));
    await expect(pending).rejects.toThrow("NOSCRIPT");
    const next = fetcher.take(1, never);
    await vi.waitFor(() => expect(fetches).toHaveLength(2));
    fetches[1]?.resolve(undefined);
    expect(await next).toEqual([]);
  });

  it("interruptWaiters rejects the takes waiting now, and only those", async () => {
    const { fetcher, fetches } = setup();
    fetcher.interruptWaiters(new Error("nobody waits"));
    const pending = fetcher.take(1, never);
    fetcher.interruptWaiters(new Error("Redis is not connected"));
    await expect(pending).rejects.toThrow("Redis is not connected");
    fetches[0]?.resolve(undefined);
  });

  it("close releases everything held, interrupts the poll, wakes waiters with [] and sends late jobs back", async () => {
    const { fetcher, ctx, fetches } = setup();
    await fetcher.hold(job("1"));
    await fetcher.take(1, never);
    await fetcher.hold(job("2"));
    const waiting = setup();
    const pending = waiting.fetcher.take(1, never);
    await vi.waitFor(() => expect(waiting.fetches).toHaveLength(1));
    await waiting.fetcher.close(true);
    expect(waiting.ctx.interrupt).toHaveBeenCalledTimes(1);
    expect(await pending).toEqual([]);
    waiting.fetches[0]?.resolve(job("late"));
    await waiting.fetcher.settled();
    expect(waiting.ctx.release).toHaveBeenCalledWith(expect.objectContaining({ id: "late" }));

    await fetcher.close(false);
    expect(ctx.interrupt).not.toHaveBeenCalled();
    expect(ctx.release.mock.calls.map(([j]) => j.id)).toEqual(["2"]);
    expect(await fetcher.take(1, never)).toEqual([]);
    await fetcher.hold(job("3"));
    expect(ctx.release.mock.calls.map(([j]) => j.id)).toEqual(["2", "3"]);
    expect(fetches).toHaveLength(0);
  });

  it("a release that fails is reported, not thrown", async () => {
    const { fetcher, ctx } = setup();
    ctx.release.mockRejectedValueOnce(new Error("gone"));
    await fetcher.hold(job("1"));
    await fetcher.close(false);
    expect(ctx.report).toHaveBeenCalledWith(expect.objectContaining({ message: "gone" }));
  });

  it("a held job nobody takes goes back after a quarter of the lease, before its lock runs low", async () => {
    vi.useFakeTimers();
    const { fetcher, ctx } = setup(4_000);
    await fetcher.hold(job("1"));
    await vi.advanceTimersByTimeAsync(500);
    await fetcher.hold(job("2"));
    await vi.advanceTimersByTimeAsync(600);
    expect(ctx.release.mock.calls.map(([j]) => j.id)).toEqual(["1"]);
    await vi.advanceTimersByTimeAsync(500);
    expect(ctx.release.mock.calls.map(([j]) => j.id)).toEqual(["1", "2"]);
    expect(await fetcher.take(5, AbortSignal.abort())).toEqual([]);
  });

  it("reopen takes work again after a close", async () => {
    const { fetcher } = setup();
    await fetcher.close(false);
    fetcher.reopen();
    await fetcher.hold(job("1"));
    expect((await fetcher.take(1, never)).map((j) => j.id)).toEqual(["1"]);
  });
});
