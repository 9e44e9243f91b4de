// @servers none
// The /metrics of a real worker, busy and then draining (when the drain's own series exists),
// through Prometheus's own linter: `promtool check metrics` (Debian's prometheus package, installed
// by scripts/install-test-servers.sh). Names, units, suffixes and help texts of every quiesce_
// series must pass; prom-client's own default metrics draw lints that are not ours.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { spawnWorker } from "../harness/worker-process.js";

const fixture = fileURLToPath(new URL("../fixtures/memory-worker.mjs", import.meta.url));

/** promtool's findings for a scrape, one per line ("name: problem"), and its exit code. */
function promtool(exposition: string): Promise<{ code: number | null; findings: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn("promtool", ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.on("error", (e) => reject(new Error(`promtool not runnable (scripts/install-test-servers.sh installs Debian's prometheus): ${e.message}`)));
    child.on("close", (code) => resolve({ code, findings: out.split("\n").filter((l) => l.trim() !== "") }));
    child.stdin.end(exposition);
  });
}

const scrape = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

describe("promtool check metrics", () => {
  it("finds nothing wrong in the quiesce_ series, busy and draining", async () => {
    const proc = spawnWorker(fixture, { env: { FIXTURE_JOBS: "1", FIXTURE_JOB_MS: "2000", QUIESCE_LOG_LEVEL: "warn", POD_NAME: undefined, POD_NAMESPACE: undefined, KUBERNETES_SERVICE_HOST: undefined } });
    const port = Number((await proc.waitForLine(/"event":"ready","port":(\d+)/, { stream: "stdout", timeoutMs: 15_000 }))[1]);
    await proc.waitForLine(/"event":"job-started"/, { stream: "stdout", timeoutMs: 5000 });
    const busy = await scrape(port);
    proc.signal("SIGTERM");
    const draining = await pollUntil(async () => {
      const text = await scrape(port);
      return /^quiesce_drain_duration_seconds /m.test(text) ? text : undefined;
    }, { timeoutMs: 5000, message: "a scrape with the drain's series" });
    expect((await proc.waitForExit(20_000)).code).toBe(0);

    for (const exposition of [busy, draining]) {
      expect(exposition).toMatch(/^quiesce_jobs_in_flight\{queue="memory"\} 1$/m);
      const { code, findings } = await promtool(exposition);
      const ours = findings.filter((f) => !/^nodejs_/.test(f));
      expect(ours).toEqual([]);
      // Exit 0 or the lint status (3) for prom-client's own series only, never a parse error (1).
      expect([0, 3], findings.join("\n")).toContain(code);
    }
  });

  it("can fail: a counter without _total and a bad unit are reported", async () => {
    const { findings } = await promtool("# HELP quiesce_bad_count Bad.\n# TYPE quiesce_bad_count counter\nquiesce_bad_count 1\n# HELP quiesce_wait_ms Bad unit.\n# TYPE quiesce_wait_ms gauge\nquiesce_wait_ms 1\n");
    expect(findings.some((f) => f.startsWith("quiesce_bad_count"))).toBe(true);
    expect(findings.some((f) => f.startsWith("quiesce_wait_ms"))).toBe(true);
  });
});
