import type { Job } from "bullmq";
import { IllegalStateError, LeaseLostError, SourceError } from "@quiesce/sdk";
import { describe, expect, it, vi } from "vitest";
import { BullmqDelivery, settleError, type DeliveryHost } from "../../src/bullmq/bullmq-delivery.js";

/** BullMQ's script refusals carry the numeric code of its ErrorCode enum. */
function scriptError(code: number, message = `code ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

function fakeJob(overrides: Partial<Record<string, unknown>> = {}) {
  return {
    id: "42",
    data: { n: 1 },
    attemptsMade: 0,
    extendLock: vi.fn(async () => 1),
    moveToCompleted: vi.fn(async (): Promise<unknown> => [null, 0, 0, 0]),
    moveToFailed: vi.fn(async () => undefined),
    moveToWait: vi.fn(async () => 0),
    moveToDelayed: vi.fn(async () => undefined),
    ...overrides,
  };
}

function setup(jobOverrides: Partial<Record<string, unknown>> = {}, options: { fetchNext?: boolean; decodeError?: Error } = {}) {
  const job = fakeJob(jobOverrides);
  const host = {
    fetchNext: options.fetchNext ?? true,
    adopt: vi.fn(async () => undefined),
    unrecoverable: vi.fn((message: string) => Object.assign(new Error(message), { name: "UnrecoverableError" })),
    saveCheckpoint: vi.fn(async (_id: string, _token: string, _data: string) => 1),
    dropCheckpoint: vi.fn(async (_id: string) => undefined),
  } satisfies DeliveryHost;
  const delivery = new BullmqDelivery(job as unknown as Job, "tok:1", host, options.decodeError);
  return { job, host, delivery };
}

describe("BullmqDelivery: checkpoints", () => {
  it("reads the checkpoint from the job's progress, and nothing from a plain progress value", () => {
    expect(setup({ progress: { quiesceCheckpoint: '{"value":1}' } }).delivery.lastCheckpoint).toBe('{"value":1}');
    expect(setup({ progress: 40 }).delivery.lastCheckpoint).toBeUndefined();
  });

  it("a refused write (the lock is another token's) is a LeaseLostError", async () => {
    const { delivery, host } = setup();
    host.saveCheckpoint.mockResolvedValueOnce(0);
    await expect(delivery.checkpoint('{"value":1}')).rejects.toBeInstanceOf(LeaseLostError);
    expect(host.saveCheckpoint).toHaveBeenCalledWith("42", "tok:1", '{"value":1}');
  });

  it("a job that checkpointed drops it after completing and before failing; one that never did costs no call", async () => {
    const acked = setup();
    await acked.delivery.checkpoint("{}");
    await acked.delivery.ack("r");
    expect(acked.host.dropCheckpoint.mock.invocationCallOrder[0]).toBeGreaterThan(acked.job.moveToCompleted.mock.invocationCallOrder[0]!);
    const failed = setup({ progress: { quiesceCheckpoint: "{}" } });
    await failed.delivery.fail(new Error("x"));
    expect(failed.host.dropCheckpoint.mock.invocationCallOrder[0]).toBeLessThan(failed.job.moveToFailed.mock.invocationCallOrder[0]!);
    const plain = setup();
    await plain.delivery.ack("r");
    expect(plain.host.dropCheckpoint).not.toHaveBeenCalled();
  });
});

describe("BullmqDelivery: mapping", () => {
  it("maps id, payload and attempt (finished attempts + 1; releases do not count)", () => {
    const { delivery } = setup({ id: "7", data: "x", attemptsMade: 2 });
    expect(delivery.id).toBe("7");
    expect(delivery.payload).toBe("x");
    expect(delivery.attempt).toBe(3);
    expect(delivery.decodeError).toBeUndefined();
  });

  it("ack completes with the handler's result under its token, fetching the next job while running", async () => {
    const { job, host, delivery } = setup();
    await delivery.ack({ sent: true });
    expect(job.moveToCompleted).toHaveBeenCalledWith({ sent: true }, "tok:1", true);
    expect(host.adopt).toHaveBeenCalledWith([null, 0, 0, 0], "tok:1");
  });

  it("ack fetches nothing once the source stopped taking work", async () => {
    const { job, host, delivery } = setup({ moveToCompleted: vi.fn(async () => []) }, { fetchNext: false });
    await delivery.ack();
    expect(job.moveToCompleted).toHaveBeenCalledWith(undefined, "tok:1", false);
    expect(host.adopt).not.toHaveBeenCalled();
  });

  it("release without a delay goes back to wait; with one, to delayed (neither uses an attempt)", async () => {
    const now = setup();
    await now.delivery.release();
    expect(now.job.moveToWait).toHaveBeenCalledWith("tok:1");
    expect(now.job.moveToDelayed).not.toHaveBeenCalled();

    const later = setup();
    const before = Date.now();
    await later.delivery.release({ delayMs: 1500.2 });
    const [at, token] = later.job.moveToDelayed.mock.calls[0] as unknown as [number, string];
    expect(token).toBe("tok:1");
    expect(at).toBeGreaterThanOrEqual(before + 1501);
    expect(later.job.moveToWait).not.toHaveBeenCalled();
  });

  it("fail hands the handler's error to BullMQ's retry path", async () => {
    const { job, delivery } = setup();
    const error = new Error("boom");
    await delivery.fail(error);
    expect(job.moveToFailed).toHaveBeenCalledWith(error, "tok:1", false);
  });

  it("fail of undecodable data is unrecoverable: no attempt is spent retrying it", async () => {
    const decodeError = new Error("data is not valid JSON");
    const { job, host, delivery } = setup({}, { decodeError });
    expect(delivery.decodeError).toBe(decodeError);
    await delivery.fail(decodeError);
    expect(host.unrecoverable).toHaveBeenCalledWith("data is not valid JSON");
    expect((job.moveToFailed.mock.calls[0] as unknown as [Error])[0].name).toBe("UnrecoverableError");
  });

  it("extend renews the lock for whole ms", async () => {
    const { job, delivery } = setup();
    await delivery.extend(1000.4);
    expect(job.extendLock).toHaveBeenCalledWith("tok:1", 1001);
  });
});

describe("BullmqDelivery: a lost lock", () => {
  it("extend rejects with LeaseLostError when BullMQ says the token no longer holds the lock", async () => {
    const { delivery } = setup({ extendLock: vi.fn(async () => 0) });
    await expect(delivery.extend(1000)).rejects.toBeInstanceOf(LeaseLostError);
  });

  it.each([-1, -2, -3, -6])("ack refused with code %i rejects with LeaseLostError (never counted as done)", async (code) => {
    const { host, delivery } = setup({ moveToCompleted: vi.fn(async () => Promise.reject(scriptError(code))) });
    await expect(delivery.ack()).rejects.toBeInstanceOf(LeaseLostError);
    expect(host.adopt).not.toHaveBeenCalled();
  });

  it("fail refused for the lock rejects with LeaseLostError", async () => {
    const { delivery } = setup({ moveToFailed: vi.fn(async () => Promise.reject(scriptError(-6))) });
    await expect(delivery.fail(new Error("x"))).rejects.toBeInstanceOf(LeaseLostError);
  });

  it("release after the lock was lost resolves: the job is already back, nothing to hand back", async () => {
    const { delivery } = setup({ moveToWait: vi.fn(async () => Promise.reject(scriptError(-2))) });
    await expect(delivery.release()).resolves.toBeUndefined();
  });
});

describe("BullmqDelivery: other failures", () => {
  it("a Redis error is a SourceError naming the operation and the job", async () => {
    const { delivery } = setup({ moveToCompleted: vi.fn(async () => Promise.reject(new Error("READONLY"))) });
    await expect(delivery.ack()).rejects.toThrow(SourceError);
    await expect(setup({ extendLock: vi.fn(async () => Promise.reject(new Error("ECONNRESET"))) }).delivery.extend(5)).rejects.toThrow(
      /^BullMQ extendLock failed for job 42: ECONNRESET/,
    );
  });

  it("release that fails for another reason rejects", async () => {
    const { delivery } = setup({ moveToWait: vi.fn(async () => Promise.reject(new Error("OOM"))) });
    await expect(delivery.release()).rejects.toThrow(/^BullMQ moveToWait failed for job 42: OOM/);
  });

  it("a result BullMQ cannot store fails the job instead, and the ack rejects saying so", async () => {
    const { job, delivery } = setup({ moveToCompleted: vi.fn(async () => Promise.reject(new TypeError("Converting circular structure to JSON"))) });
    await expect(delivery.ack({})).rejects.toThrow(/moved to failed instead/);
    expect((job.moveToFailed.mock.calls[0] as unknown as [Error])[0].message).toMatch(/cannot be stored as JSON: Converting circular/);
  });

  it.each([-4, -9])("a flow parent that cannot complete (code %i) is failed instead, as BullMQ's worker does", async (code) => {
    const refusal = scriptError(code, `Job 42 has pending dependencies or failed children (${code})`);
    const { job, delivery } = setup({ moveToCompleted: vi.fn(async () => Promise.reject(refusal)) });
    await expect(delivery.ack()).rejects.toThrow(/moved to failed instead/);
    expect(job.moveToFailed).toHaveBeenCalledWith(refusal, "tok:1", false);
  });

  it("settles once: a second settle throws IllegalStateError naming the first", async () => {
    const { delivery } = setup();
    await delivery.ack();
    await expect(delivery.release()).rejects.toThrow(IllegalStateError);
    await expect(delivery.fail(new Error("x"))).rejects.toThrow(/already settled by ack\(\)/);
    await expect(delivery.extend(10)).rejects.toThrow(IllegalStateError);
  });

  it("validates its arguments", async () => {
    const { delivery } = setup();
    await expect(delivery.extend(0)).rejects.toThrow(RangeError);
    await expect(delivery.release({ delayMs: -1 })).rejects.toThrow(RangeError);
    // A rejected argument settles nothing.
    await delivery.release();
  });
});

describe("settleError", () => {
  it("maps BullMQ's lock codes to LeaseLostError and everything else to SourceError", () => {
    for (const code of [-1, -2, -3, -6]) expect(settleError("op", "1", scriptError(code))).toBeInstanceOf(LeaseLostError);
    for (const code of [-4, -9, -5]) expect(settleError("op", "1", scriptError(code))).toBeInstanceOf(SourceError);
    expect(settleError("op", "1", Object.assign(new Error("refused"), { code: "ECONNREFUSED" }))).toBeInstanceOf(SourceError);
    expect(settleError("op", "1", "not an error")).toBeInstanceOf(SourceError);
  });
});
