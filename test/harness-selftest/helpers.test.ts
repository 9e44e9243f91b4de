// @servers none
// pollUntil, uniqueName, the @servers header parser and spawnWorker.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { isAlive } from "../harness/proc.js";
import { parseServersHeader } from "../harness/server-needs.js";
import { uniqueName } from "../harness/unique.js";
import { killAllWorkers, spawnWorker } from "../harness/worker-process.js";

const fixture = fileURLToPath(new URL("./fixtures/echo-worker.mjs", import.meta.url));

describe("pollUntil", () => {
  it("returns the first truthy value", async () => {
    let n = 0;
    expect(await pollUntil(() => (++n >= 3 ? { n } : undefined), { intervalMs: 1 })).toEqual({ n: 3 });
  });

  it("treats a throw as not yet", async () => {
    let n = 0;
    const value = await pollUntil(async () => {
      if (++n < 3) throw new Error("not up");
      return "up";
    }, { intervalMs: 1 });
    expect(value).toBe("up");
  });

  it("fails with the message, the last value and the last error", async () => {
    let n = 0;
    const err = await pollUntil(() => {
      if (++n % 2 === 0) throw new Error("boom");
      return 0;
    }, { timeoutMs: 50, intervalMs: 5, message: "queue drained" }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/timed out after 50 ms .* waiting for queue drained; last value: 0; last error: boom/);
  });
});

describe("uniqueName", () => {
  it("is unique, keeps the prefix, and is valid for SQS, RabbitMQ, Redis and PostgreSQL", () => {
    const names = Array.from({ length: 1000 }, () => uniqueName("My Queue:x"));
    expect(new Set(names).size).toBe(1000);
    for (const n of names) {
      expect(n).toMatch(/^my_queue_x_[a-z0-9_-]+$/);
      expect(n.length).toBeLessThanOrEqual(63);
    }
    expect(uniqueName("x".repeat(100)).length).toBeLessThanOrEqual(63);
  });
});

describe("parseServersHeader", () => {
  it("reads the leading comment block", () => {
    expect(parseServersHeader("// @servers redis rabbitmq\nimport x from 'y';\n")).toEqual(["rabbitmq", "redis"]);
    expect(parseServersHeader("/**\n * A test.\n * @servers postgres, fauxqs\n */\n")).toEqual(["postgres", "fauxqs"]);
    expect(parseServersHeader("// @servers none\n")).toEqual([]);
    expect(parseServersHeader("import x from 'y';\n// @servers redis\n")).toEqual([]);
    expect(parseServersHeader("// @servers none\n// about the @servers header itself\n")).toEqual([]);
  });

  it("rejects an unknown server name, naming the file", () => {
    expect(() => parseServersHeader("// @servers reddis\n", "a.test.ts")).toThrow(/a\.test\.ts: unknown server "reddis"/);
  });
});

describe("spawnWorker", () => {
  it("passes env and args, waits for lines event-driven, signals, reports the exit", async () => {
    const w = spawnWorker(fixture, { env: { FIXTURE_VALUE: "v1" }, args: ["a1"] });
    const ready = await w.waitForLine(/^ready pid=(\d+)/, { stream: "stdout", timeoutMs: 10_000 });
    expect(Number(ready[1])).toBe(w.pid);
    expect(ready.input).toBe(`ready pid=${w.pid} arg=a1 env=v1`);
    // Lines printed before the call count; a line written in two chunks is one line.
    expect((await w.waitForLine(/joined/, { stream: "stderr" })).input).toBe("partial line joined");
    await expect(w.waitForLine(/joined/, { stream: "stdout", timeoutMs: 50 })).rejects.toThrow(/no stdout line matching/);

    w.signal("SIGTERM");
    await w.waitForLine(/draining/);
    const exit = await w.waitForExit(10_000);
    expect(exit).toMatchObject({ code: 143, signal: null, lastStderrLine: "stopped by SIGTERM" });
    expect(exit.stdout).toContain("draining\n");
    expect(w.exit).toBe(exit);
    await expect(w.waitForLine(/never/)).rejects.toThrow(/exited \(code 143/);
    w.signal("SIGTERM"); // after the exit: no error
  });

  it("waitForExit times out with the last output; kill() ends it", async () => {
    const w = spawnWorker(fixture, { env: { FIXTURE_IGNORE_TERM: "1" } });
    await w.waitForLine(/ready/);
    w.signal("SIGTERM");
    await w.waitForLine(/ignoring SIGTERM/);
    await expect(w.waitForExit(100)).rejects.toThrow(/did not exit within 100 ms[\s\S]*ignoring SIGTERM/);
    expect(await w.kill()).toMatchObject({ code: null, signal: "SIGKILL" });
    expect(isAlive(w.pid)).toBe(false);
  });

  it("killAllWorkers() (the afterAll hook) ends every worker still running", async () => {
    const workers = [spawnWorker(fixture), spawnWorker(fixture, { env: { FIXTURE_IGNORE_TERM: "1" } })];
    await Promise.all(workers.map((w) => w.waitForLine(/ready/)));
    await killAllWorkers();
    for (const w of workers) expect(isAlive(w.pid)).toBe(false);
  });
});
