import { describe, expect, it } from "vitest";
import { ConfigError, SourceError } from "../../src/errors.js";
import { noopLogger } from "../../src/logger.js";
import { connectWithRetry } from "../../src/source/connect.js";
import type { Source } from "../../src/source/source.js";

/** A source whose start() fails with what `fail(attempt)` returns, or succeeds when it returns null. */
function source(fail: (attempt: number) => Error | null): Source & { attempts: number } {
  const s = {
    name: "q",
    leaseMs: 1000,
    attempts: 0,
    async start() {
      const error = fail(++s.attempts);
      if (error) throw error;
    },
    receive: async () => [],
    stop: async () => undefined,
  };
  return s;
}

describe("connectWithRetry", () => {
  it("retries an unreachable broker with backoff until it answers", async () => {
    const s = source((attempt) => (attempt < 3 ? new SourceError("ECONNREFUSED") : null));
    expect(await connectWithRetry(s, { concurrency: 1 }, 10_000, new AbortController().signal, noopLogger)).toBe(true);
    expect(s.attempts).toBe(3);
  });

  it("a ConfigError (a missing queue, refused credentials) is fatal at once: no retry", async () => {
    const s = source(() => new ConfigError("SQS GetQueueAttributes failed for queue q: QueueDoesNotExist"));
    await expect(connectWithRetry(s, { concurrency: 1 }, 10_000, new AbortController().signal, noopLogger)).rejects.toBeInstanceOf(ConfigError);
    expect(s.attempts).toBe(1);
  });

  it("still unreachable after failureMs: a SourceError saying for how long", async () => {
    const s = source(() => new SourceError("ECONNREFUSED"));
    await expect(connectWithRetry(s, { concurrency: 1 }, 150, new AbortController().signal, noopLogger)).rejects.toThrow(/q: broker unreachable for \d+ ms: ECONNREFUSED/);
    expect(s.attempts).toBeGreaterThan(1);
  });
});
