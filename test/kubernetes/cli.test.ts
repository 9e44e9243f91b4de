// @servers none
// The `quiesce` bin (packages/sdk/dist/cli/main.js) against real worker processes: what an exec
// preStop hook sees.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { spawnWorker, type WorkerProcess } from "../harness/worker-process.js";

const fixture = fileURLToPath(new URL("../fixtures/kubernetes/worker.mjs", import.meta.url));
const bin = fileURLToPath(new URL("../../packages/sdk/dist/cli/main.js", import.meta.url));

const noPod = { POD_NAME: undefined, POD_NAMESPACE: undefined, KUBERNETES_SERVICE_HOST: undefined, QUIESCE_LOG_LEVEL: "warn" };

async function busyWorker(env: Record<string, string>): Promise<{ proc: WorkerProcess; port: number }> {
  const proc = spawnWorker(fixture, { env: { ...noPod, ...env } });
  const ready = await proc.waitForLine(/"event":"ready"/, { stream: "stdout", timeoutMs: 15_000 });
  const port = (JSON.parse(ready.input) as { port: number }).port;
  await proc.waitForLine(/"event":"job-started"/, { stream: "stdout", timeoutMs: 10_000 });
  return { proc, port };
}

const quiesce = (...args: string[]) => spawnWorker(bin, { args, env: { QUIESCE_HTTP_PORT: undefined, QUIESCE_DRAIN_TOKEN: undefined } });

describe.concurrent("quiesce drain", () => {
  it("against a busy worker holds until it has drained, prints the report, exit 0", async () => {
    const { proc, port } = await busyWorker({ FIXTURE_JOBS: "1", FIXTURE_JOB_MS: "2500" });
    const cli = quiesce("drain", "--port", String(port));
    const cliDone = cli.waitForExit(20_000).then((exit) => ({ ...exit, at: Date.now() }));
    await proc.waitForLine(/"event":"drain-started"/, { stream: "stdout", timeoutMs: 5000 });
    expect(cli.exit).toBeUndefined(); // holding while the job runs
    const [cliExit, workerExit] = await Promise.all([cliDone, proc.waitForExit(20_000)]);
    const finished = workerExit.stdout.split("\n").find((l) => l.includes('"event":"job-finished"'));
    expect(cliExit.code).toBe(0);
    expect(cliExit.stdout).toMatch(/^quiesce: drained \(graceful, reason http, exit 0\): 1 completed, 0 failed, 0 released, 0 interrupted in \d+\.\d s\n$/);
    expect(workerExit.code).toBe(0);
    // The hook returned after the job finished, not before.
    expect(cliExit.at).toBeGreaterThanOrEqual((JSON.parse(finished!) as { now: number }).now);
  }, 30_000);

  it("exit 143 when the drain had to hand work back (a job longer than the grace period)", async () => {
    const { proc, port } = await busyWorker({ FIXTURE_JOBS: "1", FIXTURE_JOB_MS: "20000", QUIESCE_GRACE_SECONDS: "2", QUIESCE_SAFETY_MARGIN_MS: "500" });
    const cli = quiesce("drain", "--port", String(port));
    const exit = await cli.waitForExit(20_000);
    expect(exit.code).toBe(143);
    expect(exit.stdout).toMatch(/drained \(forced, reason http, exit 143\): 0 completed, 0 failed, 1 released, 1 interrupted/);
    await proc.waitForExit(10_000);
  }, 30_000);

  it("--timeout: gives up with one line and exit 1 while the drain goes on", async () => {
    const { proc, port } = await busyWorker({ FIXTURE_JOBS: "1", FIXTURE_JOB_MS: "5000" });
    const exit = await quiesce("drain", "--port", String(port), "--timeout", "0.5").waitForExit(10_000);
    const gaveUpAt = Date.now();
    expect(exit.code).toBe(1);
    expect(exit.stderr.trim().split("\n")).toHaveLength(1);
    expect(exit.stderr).toMatch(/^quiesce: no answer from http:\/\/127\.0\.0\.1:\d+\/drain within 0\.5 s/);
    // It gave up long before the drain ended, and the drain it started still completes the job.
    const workerExit = await proc.waitForExit(15_000);
    expect(workerExit.code).toBe(0);
    const finished = workerExit.stdout.split("\n").find((l) => l.includes('"event":"job-finished"'));
    expect(gaveUpAt).toBeLessThan((JSON.parse(finished!) as { now: number }).now);
  }, 30_000);

  it("nobody listening: one line, exit 1", async () => {
    const exit = await quiesce("drain", "--port", "1").waitForExit(10_000);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(/^quiesce: cannot reach the worker at http:\/\/127\.0\.0\.1:1\/drain: connect ECONNREFUSED/);
    expect(exit.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("a bad argument: usage, exit 2", async () => {
    const exit = await quiesce("drain", "--port", "nope").waitForExit(10_000);
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain("--port (or QUIESCE_HTTP_PORT) must be a port number");
    expect(exit.stderr).toContain("usage: quiesce");
  });

  it("--help: the usage on stdout, every exit code named (2 included), exit 0", async () => {
    const exit = await quiesce("--help").waitForExit(10_000);
    expect(exit.code).toBe(0);
    expect(exit.stdout).toMatch(/^usage: quiesce <command>/);
    expect(exit.stdout).toMatch(/exit 0 when everything finished, 143 when work was handed back, 1 when the worker/);
    expect(exit.stdout).toMatch(/^exit 2: a bad command line/m);
  });
});

describe.concurrent("quiesce status", () => {
  it("prints the worker's /status JSON, exit 0", async () => {
    const { proc, port } = await busyWorker({ FIXTURE_JOBS: "1", FIXTURE_JOB_MS: "1500" });
    const exit = await spawnWorker(bin, { args: ["status"], env: { QUIESCE_HTTP_PORT: String(port) } }).waitForExit(10_000);
    expect(exit.code).toBe(0);
    expect(JSON.parse(exit.stdout)).toMatchObject({ state: "busy", inFlight: 1 });
    proc.signal("SIGTERM");
    await proc.waitForExit(10_000);
  }, 30_000);

  it("exit 1 when the worker cannot be reached", async () => {
    const exit = await quiesce("status", "--port", "1").waitForExit(10_000);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(/^quiesce: cannot reach the worker/);
  });
});
