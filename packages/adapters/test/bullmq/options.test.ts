import { ConfigError } from "@quiesce/sdk";
import { describe, expect, it } from "vitest";
import { isRedisClient, resolveBullmqOptions, type BullmqSourceOptions } from "../../src/bullmq/options.js";

const base = { queue: "emails", connection: { host: "127.0.0.1", port: 6379 } } satisfies BullmqSourceOptions;

/** A stand-in for an ioredis instance: what the structural check looks at. */
function fakeClient(options: Record<string, unknown>): BullmqSourceOptions["connection"] {
  return { duplicate: () => undefined, options } as unknown as BullmqSourceOptions["connection"];
}

function rejects(options: unknown, message: RegExp): void {
  const attempt = (): unknown => resolveBullmqOptions(options as BullmqSourceOptions);
  expect(attempt).toThrow(ConfigError);
  expect(attempt).toThrow(message);
}

describe("resolveBullmqOptions", () => {
  it("fills BullMQ's defaults and owns connections made from options", () => {
    expect(resolveBullmqOptions(base)).toEqual({
      queue: "emails",
      redisOptions: { host: "127.0.0.1", port: 6379 },
      client: null,
      prefix: "bull",
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
      maxStalledCount: 1,
      pollTimeoutMs: 5_000,
      connectTimeoutMs: 10_000,
    });
  });

  it("keeps every option given", () => {
    const resolved = resolveBullmqOptions({
      ...base,
      prefix: "{app}",
      lockDurationMs: 5_000,
      stalledIntervalMs: 1_000,
      maxStalledCount: 0,
      pollTimeoutMs: 250,
      connectTimeoutMs: 2_000,
    });
    expect(resolved).toMatchObject({ prefix: "{app}", lockDurationMs: 5_000, stalledIntervalMs: 1_000, maxStalledCount: 0, pollTimeoutMs: 250, connectTimeoutMs: 2_000 });
  });

  it("uses a client it is given and never takes ownership of it", () => {
    const client = fakeClient({ maxRetriesPerRequest: null });
    const resolved = resolveBullmqOptions({ ...base, connection: client });
    expect(resolved.client).toBe(client);
    expect(resolved.redisOptions).toBeNull();
  });

  it("copies the options it is given (a later change by the caller does not leak in)", () => {
    const connection = { host: "redis", port: 6380 };
    const resolved = resolveBullmqOptions({ ...base, connection });
    connection.port = 1;
    expect(resolved.redisOptions).toEqual({ host: "redis", port: 6380 });
  });

  it.each([
    ["no options", undefined, /options must be an object with at least queue and connection, got undefined/],
    ["a missing queue", { connection: base.connection }, /queue must be a non-empty string without ":" .*got undefined/],
    ["an empty queue", { ...base, queue: "" }, /queue must be a non-empty string without ":" .*got ""/],
    ["a queue with a colon", { ...base, queue: "a:b" }, /queue must be a non-empty string without ":" .*got "a:b"/],
    ["an empty prefix", { ...base, prefix: "" }, /prefix must be a non-empty string, got ""/],
    ["a missing connection", { queue: "q" }, /connection must be ioredis options .* or an ioredis instance, got undefined/],
    ["a string connection", { queue: "q", connection: "redis://x" }, /connection must be ioredis options .*got "redis:\/\/x"/],
    ["maxRetriesPerRequest in options", { ...base, connection: { maxRetriesPerRequest: 3 } }, /connection\.maxRetriesPerRequest must be null or left out .*got 3/],
    ["keyPrefix in options", { ...base, connection: { keyPrefix: "app:" } }, /connection\.keyPrefix is not supported by BullMQ; use the prefix option, got "app:"/],
    ["a client without maxRetriesPerRequest: null", { ...base, connection: fakeClient({ maxRetriesPerRequest: 20 }) }, /must be created with maxRetriesPerRequest: null.*got 20/],
    ["a client with a keyPrefix", { ...base, connection: fakeClient({ maxRetriesPerRequest: null, keyPrefix: "x:" }) }, /must not set keyPrefix .*use the prefix option, got "x:"/],
    ["a zero lock", { ...base, lockDurationMs: 0 }, /lockDurationMs must be a positive integer, got 0/],
    ["a fractional lock", { ...base, lockDurationMs: 1.5 }, /lockDurationMs must be a positive integer, got 1.5/],
    ["a string stalled interval", { ...base, stalledIntervalMs: "1000" }, /stalledIntervalMs must be a positive integer, got "1000"/],
    ["a negative stall count", { ...base, maxStalledCount: -1 }, /maxStalledCount must be an integer >= 0, got -1/],
    ["an infinite poll", { ...base, pollTimeoutMs: Infinity }, /pollTimeoutMs must be a positive integer, got Infinity/],
    ["a NaN connect timeout", { ...base, connectTimeoutMs: Number.NaN }, /connectTimeoutMs must be a positive integer, got NaN/],
  ])("rejects %s, naming the option and the value", (_, options, message) => {
    rejects(options, message);
  });

  it("names the factory in every message", () => {
    rejects({ ...base, lockDurationMs: -5 }, /^createBullmqSource: /);
  });
});

describe("isRedisClient", () => {
  it("tells a client from plain options", () => {
    expect(isRedisClient(fakeClient({}))).toBe(true);
    expect(isRedisClient({ host: "x", port: 1 })).toBe(false);
    expect(isRedisClient({ duplicate: () => undefined })).toBe(false);
    expect(isRedisClient(null)).toBe(false);
  });
});
