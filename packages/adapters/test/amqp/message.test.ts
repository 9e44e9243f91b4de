import type { ConsumeMessage } from "amqplib";
import { describe, expect, it } from "vitest";
import { attemptHeader, checkpointBound, checkpointHeader, readMessage, releaseProperties, retryProperties, tableBytes } from "../../src/amqp/message.js";
import { decodeJson } from "../../src/amqp/options.js";

function message(content: string, properties: Record<string, unknown> = {}): ConsumeMessage {
  return {
    content: Buffer.from(content),
    fields: { deliveryTag: 7, redelivered: false, exchange: "", routingKey: "q", consumerTag: "c" },
    properties: { headers: {}, ...properties },
  } as unknown as ConsumeMessage;
}

describe("reading a message", () => {
  it("takes the producer's messageId, attempt 1 without the header, the header's attempt otherwise", () => {
    expect(readMessage(message('{"a":1}', { messageId: "m-1" }), "q", () => "fallback", decodeJson)).toMatchObject({ id: "m-1", attempt: 1, payload: { a: 1 }, decodeError: undefined, deliveryCount: undefined });
    expect(readMessage(message("2", { headers: { [attemptHeader]: 3, "x-delivery-count": 2 } }), "q", () => "fallback", decodeJson)).toMatchObject({ id: "fallback", attempt: 3, payload: 2, deliveryCount: 2 });
    expect(readMessage(message("2", { headers: { [attemptHeader]: "junk" } }), "q", () => "f", decodeJson).attempt).toBe(1);
  });

  it("a body that does not decode becomes a decodeError naming the message and queue, never a throw", () => {
    const facts = readMessage(message("{not json", { messageId: "m-2" }), "images", () => "f", decodeJson);
    expect(facts.decodeError?.message).toMatch(/^RabbitMQ message m-2 on queue "images" cannot be decoded: its body is not valid JSON/);
    const custom = readMessage(message("x"), "images", () => "f", () => {
      throw new Error("not an image");
    });
    expect(custom.decodeError?.message).toMatch(/decode threw: not an image/);
  });

  it("the retry copy keeps the producer's properties and id, raises the attempt, drops the broker's bookkeeping", () => {
    const original = message("{}", {
      messageId: undefined,
      contentType: "application/json",
      deliveryMode: 2,
      correlationId: "c-1",
      userId: "producer",
      headers: { [attemptHeader]: 1, "x-delivery-count": 4, "x-death": [{}], tenant: "t1" },
    });
    const props = retryProperties(original, "q#1.7", 2);
    expect(props).toEqual({ headers: { [attemptHeader]: 2, tenant: "t1" }, messageId: "q#1.7", persistent: true, contentType: "application/json", correlationId: "c-1" });
    expect(retryProperties(message("{}", { deliveryMode: 1 }), "id", 2).persistent).toBe(false);
  });

  it("a released copy carries the checkpoint and keeps the attempt as it was; a retry copy drops a carried checkpoint", () => {
    const original = message("{}", { messageId: "m-3", headers: { [attemptHeader]: 2, [checkpointHeader]: '{"old":1}', "x-delivery-count": 1, tenant: "t1" } });
    expect(readMessage(original, "q", () => "f", decodeJson).checkpoint).toBe('{"old":1}');
    expect(releaseProperties(original, "m-3", '{"step":4}').headers).toEqual({ [attemptHeader]: 2, [checkpointHeader]: '{"step":4}', tenant: "t1" });
    expect(retryProperties(original, "m-3", 3).headers).toEqual({ [attemptHeader]: 3, tenant: "t1" });
    expect(readMessage(message("{}"), "q", () => "f", decodeJson).checkpoint).toBeUndefined();
  });

  it("bounds a checkpoint by half the negotiated frame, at most 32 KiB", () => {
    expect(checkpointBound(131_072)).toBe(32 * 1024);
    expect(checkpointBound(4_096)).toBe(2_048);
  });

  it("estimates a header table's encoded size from above: tag and length per field, 8 bytes for any number", () => {
    expect(tableBytes({})).toBe(4);
    // 4 + "a": 1+1+(1+4+2) + "n": 1+1+(1+8) + "t": 1+1+(1+1) + nested "o": 1+1+(1+4+ "z": 1+1+1)
    expect(tableBytes({ a: "xy", n: 5, t: true, o: { z: null }, skipped: undefined })).toBe(4 + 9 + 11 + 4 + 10);
    expect(tableBytes({ u: "ü€" })).toBe(4 + 1 + 1 + 5 + 5);
  });
});
