// @servers none
// The admin endpoints of a real worker process: /status, /drain holding until drained, and
// /drain authorisation seen from a real non-loopback caller (a network namespace on a veth pair).
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestHost, type TestHost } from "../harness/netns.js";
import { spawnWorker, type WorkerProcess } from "../harness/worker-process.js";
import { named, parseEvents } from "./events.js";

const fixture = fileURLToPath(new URL("../fixtures/memory-worker.mjs", import.meta.url));

async function startFixture(env: Record<string, string>): Promise<{ proc: WorkerProcess; port: number }> {
  const proc = spawnWorker(fixture, { env: { QUIESCE_LOG_LEVEL: "warn", ...env } });
  const ready = await proc.waitForLine(/"event":"ready","port":(\d+)/, { stream: "stdout", timeoutMs: 15_000 });
  return { proc, port: Number(ready[1]) };
}

describe("/status and /drain", () => {
  it("reports the status snapshot as JSON", async () => {
    const { proc, port } = await startFixture({ FIXTURE_JOBS: "1", FIXTURE_JOB_MS: "5000" });
    await proc.waitForLine(/"event":"job-started"/, { stream: "stdout", timeoutMs: 5000 });
    const response = await fetch(`http://127.0.0.1:${port}/status`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    const status = (await response.json()) as Record<string, unknown>;
    expect(status).toMatchObject({ state: "busy", inFlight: 1, completed: 0, failed: 0, released: 0, queue: "memory" });
    // One time form: ISO 8601 UTC strings, every one.
    const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
    for (const field of ["since", "startedAt", "oldestJobStartedAt"]) expect(status[field], field).toMatch(iso);
    expect(status.drainDeadline).toBeNull();
    expect(Date.parse(status.oldestJobStartedAt as string)).toBeGreaterThanOrEqual(Date.parse(status.startedAt as string));
    expect(Date.parse(status.oldestJobStartedAt as string)).toBeLessThanOrEqual(Date.now());
    // Two signals sent back to back can merge into one delivery: wait for the first to land.
    proc.signal("SIGINT");
    await proc.waitForLine(/"event":"drain-started"/, { stream: "stdout", timeoutMs: 5000 });
    const draining = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as Record<string, unknown>;
    expect(draining).toMatchObject({ state: "draining", drainReason: "SIGINT" });
    for (const field of ["since", "startedAt", "oldestJobStartedAt", "drainDeadline"]) expect(draining[field], field).toMatch(iso);
    expect(Date.parse(draining.drainDeadline as string)).toBeGreaterThan(Date.parse(draining.since as string));
    proc.signal("SIGINT");
    expect((await proc.waitForExit(10_000)).code).toBe(143);
  });

  it("POST /drain holds until the worker has drained, then answers with the final counts", async () => {
    const { proc, port } = await startFixture({ FIXTURE_JOBS: "2", FIXTURE_JOB_MS: "1200", QUIESCE_CONCURRENCY: "2" });
    await proc.waitForLine(/"event":"job-started".*"n":1/, { stream: "stdout", timeoutMs: 5000 });
    const sentAt = Date.now();
    const response = await fetch(`http://127.0.0.1:${port}/drain`, { method: "POST" });
    const answeredAt = Date.now();
    expect(response.status).toBe(200);
    const report = (await response.json()) as Record<string, unknown>;
    expect(report).toMatchObject({ reason: "http", completed: 2, released: 0, exitCode: 0, path: "graceful" });
    // It answered only once both 1.2 s jobs had finished.
    expect(answeredAt - sentAt).toBeGreaterThan(800);
    const exit = await proc.waitForExit(10_000);
    expect(exit.code).toBe(0);
    const events = parseEvents(exit.stdout);
    const finished = events.findLastIndex((e) => e.event === "job-finished");
    expect(finished).toBeGreaterThan(-1);
    expect(named(events, "drained")).toHaveLength(1);
  });

  it("GET /drain works for a kubelet httpGet preStop hook", async () => {
    const { proc, port } = await startFixture({});
    const response = await fetch(`http://127.0.0.1:${port}/drain`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { reason: string }).reason).toBe("http");
    expect((await proc.waitForExit(10_000)).code).toBe(0);
  });
});

describe("/drain from a non-loopback address", () => {
  let host: TestHost;
  beforeAll(() => {
    host = createTestHost();
  });
  afterAll(() => host?.remove());

  // Runs fetch inside the namespace: the worker sees the namespace's address as the caller.
  const remoteStatus = (port: number, token?: string): number => {
    const headers = token === undefined ? "{}" : JSON.stringify({ authorization: `Bearer ${token}` });
    const script = `fetch("http://${host.hostAddress}:${port}/drain",{method:"POST",headers:${headers}}).then(r=>console.log(r.status),e=>{console.error(e.message);process.exit(2)})`;
    return Number(host.exec(process.execPath, ["-e", script]).trim());
  };

  it("is refused (403) without a configured token, and the worker keeps running", async () => {
    const { proc, port } = await startFixture({ QUIESCE_HTTP_HOST: "0.0.0.0" });
    expect(remoteStatus(port)).toBe(403);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    proc.signal("SIGTERM");
    expect((await proc.waitForExit(10_000)).code).toBe(0);
  });

  it("needs the bearer token when one is configured", async () => {
    const { proc, port } = await startFixture({ QUIESCE_HTTP_HOST: "0.0.0.0", QUIESCE_DRAIN_TOKEN: "let-me-drain" });
    expect(remoteStatus(port)).toBe(401);
    expect(remoteStatus(port, "wrong-token")).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    expect(remoteStatus(port, "let-me-drain")).toBe(200);
    expect((await proc.waitForExit(10_000)).code).toBe(0);
  });
});
