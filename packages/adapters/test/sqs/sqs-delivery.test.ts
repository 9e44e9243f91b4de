import type { Message, MessageAttributeValue } from "@aws-sdk/client-sqs";
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
    fifo: false,
    maxReceiveCount: 3,
    backoff: { baseSeconds: 1, maxSeconds: 900 },
    changeVisibility: async (handle, seconds) => (calls.push(`visibility ${handle} ${seconds}`), ok),
    remove: async (handle) => (calls.push(`delete ${handle}`), ok),
    resend: async (message, attributes, delay) => void calls.push(`send ${message.Body} ${delay}${carried(attributes)}`),
    extended: () => undefined,
    finishing: () => undefined,
    settled: (_d, how) => void calls.push(`settled ${how}`),
    ...overrides,
  };
  return { h, calls };
}

/** The quiesce.* attributes of a copy, as " name=value" pairs (the id is always there, so only when it is not m1). */
function carried(attributes: Record<string, MessageAttributeValue>): string {
  return Object.entries(attributes)
    .filter(([name, value]) => name.startsWith("quiesce.") && !(name === "quiesce.id" && value.StringValue === "m1"))
    .map(([name, value]) => ` ${name}=${value.StringValue}`)
    .join("");
}

const message = (receiveCount = 1, body = '{"n":1}', attributes?: Record<string, MessageAttributeValue>): Message => ({
  MessageId: "m1",
  ReceiptHandle: "rh1",
  Body: body,
  Attributes: { ApproximateReceiveCount: String(receiveCount) },
  ...(attributes ? { MessageAttributes: attributes } : {}),
});
const text = (value: string): MessageAttributeValue => ({ DataType: "String", StringValue: value });

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

  it("a release after a checkpoint re-sends the copy with it (same id, same attempt, the producer's attributes kept), then deletes", async () => {
    const { h, calls } = host();
    const d = new SqsDelivery(message(2, '{"n":1}', { trace: text("t1") }), fresh(), h, JSON.parse);
    expect(d.lastCheckpoint).toBeUndefined();
    await d.checkpoint?.('{"step":4}');
    let sent: Record<string, MessageAttributeValue> = {};
    h.resend = async (_m, attributes, delay) => void ((sent = attributes), calls.push(`send ${delay}${carried(attributes)}`));
    await d.release();
    expect(calls).toEqual(['send 0 quiesce.attempt=2 quiesce.checkpoint={"step":4}', "delete rh1", "settled release"]);
    expect(sent.trace).toEqual(text("t1"));
    await expect(d.checkpoint?.("{}")).rejects.toBeInstanceOf(IllegalStateError);
  });

  it("a copy reads back what it carries: the first id, the attempt counted on from it, the checkpoint", () => {
    const { h } = host();
    const copy = new SqsDelivery(message(2, "{}", { "quiesce.id": text("first"), "quiesce.attempt": { DataType: "Number", StringValue: "3" }, "quiesce.checkpoint": text('{"s":1}') }), fresh(), h, JSON.parse);
    expect([copy.id, copy.attempt, copy.receiveCount, copy.lastCheckpoint]).toEqual(["first", 4, 2, '{"s":1}']);
  });

  it("a failure of a copy that carries a checkpoint re-sends it without (attempt raised, the backoff as delay); the last receive goes back as it is", async () => {
    const { h, calls } = host();
    const withCheckpoint = (receiveCount: number) => message(receiveCount, "{}", { "quiesce.checkpoint": text('{"s":1}') });
    await new SqsDelivery(withCheckpoint(1), fresh(), h, JSON.parse).fail(new Error("x"));
    await new SqsDelivery(withCheckpoint(3), fresh(), h, JSON.parse).fail(new Error("x"));
    expect(calls).toEqual(["send {} 1 quiesce.attempt=2", "delete rh1", "settled fail", "visibility rh1 0", "settled fail"]);
  });

  it("no room for our attributes (SQS allows 10), or a refused send: the plain release, the message as it was", async () => {
    const { h, calls } = host();
    const many = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`a${i}`, text("x")]));
    const d = new SqsDelivery(message(2, "{}", many), fresh(), h, JSON.parse);
    await d.checkpoint?.('{"step":1}');
    await d.release();
    expect(calls).toEqual(["visibility rh1 0", "settled release"]);
  });

  it("FIFO: no checkpoint method (a copy would go behind its group: only a store keeps them), and the bound shrinks with the message", () => {
    const fifo = new SqsDelivery(message(), fresh(), host({ fifo: true }).h, JSON.parse);
    expect(fifo.checkpoint).toBeUndefined();
    const big = new SqsDelivery(message(1, JSON.stringify("x".repeat(250_000))), fresh(), host().h, JSON.parse);
    expect(big.checkpointMaxBytes).toBeLessThan(262_144 - 250_000);
    expect(new SqsDelivery(message(), fresh(), host().h, JSON.parse).checkpointMaxBytes).toBe(64 * 1024);
  });
});
