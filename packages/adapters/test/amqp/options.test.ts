import { ConfigError } from "@quiesce/sdk";
import { describe, expect, it } from "vitest";
import { decodeJson, redact, resolveAmqpOptions, type AmqpSourceOptions } from "../../src/amqp/options.js";

const base = { queue: "images", url: "amqp://guest:guest@127.0.0.1:5672" } satisfies AmqpSourceOptions;

/** A stand-in for an amqplib connection: what the structural check looks at. */
const fakeConnection = { createConfirmChannel: () => undefined, close: () => undefined, on: () => undefined } as unknown as NonNullable<AmqpSourceOptions["connection"]>;

function rejects(options: unknown, message: RegExp): void {
  const attempt = (): unknown => resolveAmqpOptions(options as AmqpSourceOptions);
  expect(attempt).toThrow(ConfigError);
  expect(attempt).toThrow(message);
}

describe("resolveAmqpOptions", () => {
  it("fills the defaults: prefetch from the worker, checkQueue only, no retries, RabbitMQ's 30 min consumer_timeout", () => {
    expect(resolveAmqpOptions(base)).toEqual({
      queue: "images",
      url: base.url,
      connection: null,
      prefetch: null,
      assert: null,
      maxAttempts: 1,
      decode: decodeJson,
      consumerTimeoutMs: 1_800_000,
      checkIntervalMs: 1_000,
      pollTimeoutMs: 5_000,
      connectTimeoutMs: 10_000,
    });
  });

  it("keeps every option given", () => {
    const decode = (content: Buffer): string => content.toString();
    const resolved = resolveAmqpOptions({
      ...base,
      prefetch: 20,
      assert: { durable: false, arguments: { "x-queue-type": "quorum" } },
      maxAttempts: 5,
      decode,
      consumerTimeoutMs: 60_000,
      checkIntervalMs: 500,
      pollTimeoutMs: 250,
      connectTimeoutMs: 2_000,
    });
    expect(resolved).toMatchObject({ prefetch: 20, assert: { durable: false, arguments: { "x-queue-type": "quorum" } }, maxAttempts: 5, decode, consumerTimeoutMs: 60_000, checkIntervalMs: 500, pollTimeoutMs: 250, connectTimeoutMs: 2_000 });
    expect(resolveAmqpOptions({ ...base, assert: {} }).assert).toEqual({ durable: true, arguments: {} });
  });

  it("uses a connection it is given, never owning it, and takes connect options as well as a URL", () => {
    const resolved = resolveAmqpOptions({ queue: "images", connection: fakeConnection });
    expect(resolved.connection).toBe(fakeConnection);
    expect(resolved.url).toBeNull();
    expect(resolveAmqpOptions({ queue: "images", url: { hostname: "rabbit", port: 5673 } }).url).toEqual({ hostname: "rabbit", port: 5673 });
  });

  it.each([
    ["not an object", "images", /options must be an object/],
    ["no queue", { url: base.url }, /queue must be a non-empty string of at most 255 bytes, got undefined/],
    ["a queue name over 255 bytes", { ...base, queue: "é".repeat(128) }, /queue must be a non-empty string of at most 255 bytes/],
    ["neither url nor connection", { queue: "images" }, /url must be an amqp:\/\/ URL or amqplib connect options \(or give connection instead\), got undefined/],
    ["both url and connection", { ...base, connection: fakeConnection }, /url or connection must be given, not both, got "both"/],
    ["an http URL", { ...base, url: "http://127.0.0.1" }, /url must be an amqp:\/\/ or amqps:\/\/ URL, got "http:\/\/127.0.0.1"/],
    ["a connection that is not amqplib's", { queue: "images", connection: { close() {} } }, /connection must be an amqplib connection .*got an object/],
    ["prefetch 0", { ...base, prefetch: 0 }, /prefetch must be an integer from 1 to 65535, got 0/],
    ["prefetch over a short", { ...base, prefetch: 70_000 }, /prefetch must be an integer from 1 to 65535, got 70000/],
    ["maxAttempts 0", { ...base, maxAttempts: 0 }, /maxAttempts must be a positive integer, got 0/],
    ["a fractional consumerTimeoutMs", { ...base, consumerTimeoutMs: 1.5 }, /consumerTimeoutMs must be a positive integer, got 1.5/],
    ["checkIntervalMs too close to the timeout", { ...base, consumerTimeoutMs: 2_000, checkIntervalMs: 1_000 }, /checkIntervalMs must be at most a quarter of consumerTimeoutMs \(2000\), got 1000/],
    ["a string pollTimeoutMs", { ...base, pollTimeoutMs: "5000" }, /pollTimeoutMs must be a positive integer, got "5000"/],
    ["assert as an array", { ...base, assert: [] }, /assert must be an object \{ durable\?, arguments\? \} or left out, got an array/],
    ["assert.durable not a boolean", { ...base, assert: { durable: "yes" } }, /assert.durable must be a boolean, got "yes"/],
    ["assert.arguments not an object", { ...base, assert: { arguments: "quorum" } }, /assert.arguments must be an object of queue arguments/],
    ["decode not a function", { ...base, decode: "json" }, /decode must be a function \(content: Buffer, message\) => payload, got "json"/],
  ])("rejects %s, naming the option", (_label, options, message) => rejects(options, message));

  it("never prints a password from a bad URL", () => {
    rejects({ ...base, url: "http://user:s3cret@host" }, /user:\*\*\*@host/);
    expect(redact("amqps://me:pa55@rabbit:5671/vh")).toBe("amqps://me:***@rabbit:5671/vh");
  });
});
