import type { Message } from "@aws-sdk/client-sqs";
import { IllegalStateError, LeaseLostError, SourceError } from "@quiesce/sdk";
import { describe, expect, it } from "vitest";
import type { EntryOutcome } from "../../src/sqs/batcher.js";
import { LeaseClock, visibilityCapMs } from "../../src/sqs/lease-clock.js";
import { SqsDelivery, type DeliveryHost } from "../../src/sqs/sqs-delivery.js";

/** A host that records the calls a delivery makes (the mapping; behaviour is tested on the emulator). */
function host(overrides: Partial<DeliveryHost> = {}) {
  const calls: string[] = [];
  const ok: EntryOutcome = { ok: true };
  const h: DeliveryHost = {
    releaseMode: "visibility",
    maxReceiveCount: 3,
    backoff: { baseSeconds: 1, maxSeconds: 900 },
    changeVisibility: async (handle, seconds) => (calls.push(`visibility ${handle} ${seconds}`), ok),
    remove: async (handle) => (calls.push(`delete ${handle}`), ok),
    resend: async (message, delay) => void calls.push(`send ${message.Body} ${delay}`),
    extended: () => undefined,
    finishing: () => undefined,
    settled: (_d, how) => void calls.push(`settled ${how}`),
    ...overrides,
  };
  return { h, calls };
}

const message = (receiveCount = 1, body = '{"n":1}'): Message => ({
  MessageId: "m1",
  ReceiptHandle: "rh1",
  Body: body,
  Attributes: { ApproximateReceiveCount: String(receiveCount) },
});

const fresh = (): LeaseClock => new LeaseClock(Date.now(), 30);

describe("SqsDelivery", () => {
  it("decodes the body, takes the receive count as attempt, extends in whole seconds", async () => {
    const { h, calls } = host();
    const d = new SqsDelivery(message(2), fresh(), h, JSON.parse);
    expect([d.id, d.attempt, d.payload]).toEqual(["m1", 2, { n: 1 }]);
    await d.extend(1_500);
    await d.ack();
    expect(calls).toEqual(["visibility rh1 2", "delete rh1", "settled ack"]);
    await expect(d.release()).rejects.toBeInstanceOf(IllegalStateError);
  });

  it("after its visibility ran out: extend and ack are lost leases, no call is made; release and fail do nothing", async () => {
    const lapsed = (): LeaseClock => new LeaseClock(Date.now() - 31_000, 30);
    const { h, calls } = host();
    await expect(new SqsDelivery(message(), lapsed(), h, JSON.parse).extend(1_000)).rejects.toBeInstanceOf(LeaseLostError);
    await expect(new SqsDelivery(message(), lapsed(), h, JSON.parse).ack()).rejects.toBeInstanceOf(LeaseLostError);
    await new SqsDelivery(message(), lapsed(), h, JSON.parse).release();
    await new SqsDelivery(message(), lapsed(), h, JSON.parse).fail(new Error("x"));
    expect(calls).toEqual(["settled lost", "settled ack", "settled release", "settled fail"]);
  });

  it("refuses a renewal past 12 hours from the receive as a lost lease, before SQS could show the message again", async () => {
    const { h, calls } = host();
    const old = new LeaseClock(Date.now() - visibilityCapMs + 20_000, 30);
    old.extended(Date.now(), 30);
    const d = new SqsDelivery(message(), old, h, JSON.parse);
    await expect(d.extend(30_000)).rejects.toThrow(/at most 12 h of visibility/);
    expect(calls).toEqual(["settled lost"]);
  });

  it("fail backs off by visibility, and sends the last receive (or an undecodable body) straight back", async () => {
    const { h, calls } = host();
    await new SqsDelivery(message(1), fresh(), h, JSON.parse).fail(new Error("x"));
    await new SqsDelivery(message(2), fresh(), h, JSON.parse).fail(new Error("x"));
    await new SqsDelivery(message(3), fresh(), h, JSON.parse).fail(new Error("x"));
    const bad = new SqsDelivery(message(1, "{nope"), fresh(), h, JSON.parse);
    expect(bad.decodeError?.message).toMatch(/^SQS message m1: the body does not decode/);
    await bad.fail(bad.decodeError!);
    expect(calls.filter((c) => c.startsWith("visibility"))).toEqual(["visibility rh1 1", "visibility rh1 2", "visibility rh1 0", "visibility rh1 0"]);
  });

  it('release: visibility 0 or the delay in seconds; "resend" sends the copy, then deletes; a failed send falls back to visibility', async () => {
    const plain = host();
    await new SqsDelivery(message(), fresh(), plain.h, JSON.parse).release({ delayMs: 1_200 });
    expect(plain.calls).toEqual(["visibility rh1 2", "settled release"]);

    const resend = host({ releaseMode: "resend" });
    await new SqsDelivery(message(), fresh(), resend.h, JSON.parse).release({ delayMs: 2_000_000 });
    expect(resend.calls).toEqual(['send {"n":1} 900', "delete rh1", "settled release"]);

    const refused = host({ releaseMode: "resend", resend: async () => Promise.reject(new Error("AccessDenied")) });
    await new SqsDelivery(message(), fresh(), refused.h, JSON.parse).release();
    expect(refused.calls).toEqual(["visibility rh1 0", "settled release"]);
  });

  it("a per-entry failure reaches its own delivery: a gone handle is a lost lease, anything else a SourceError", async () => {
    const gone = host({ remove: async () => ({ ok: false, code: "ReceiptHandleIsInvalid", message: "bad handle" }) });
    await expect(new SqsDelivery(message(), fresh(), gone.h, JSON.parse).ack()).rejects.toBeInstanceOf(LeaseLostError);
    const internal = host({ changeVisibility: async () => ({ ok: false, code: "InternalError", message: "try again" }) });
    await expect(new SqsDelivery(message(), fresh(), internal.h, JSON.parse).extend(1_000)).rejects.toBeInstanceOf(SourceError);
    // A release whose handle is gone has nothing to hand back: done.
    const released = host({ changeVisibility: async () => ({ ok: false, code: "MessageNotInflight", message: "" }) });
    await new SqsDelivery(message(), fresh(), released.h, JSON.parse).release();
  });
});
