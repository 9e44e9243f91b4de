// @servers none
// What an operator can read about a drain from outside a real worker process: the drain's age in
// quiesce_drain_duration_seconds while it runs (the process exits right after it, so a finished
// drain is seldom scraped), jobs in flight by queue, and the "drain finished" summary line on
// stderr, the last word on a drain whatever the scrape interval.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { spawnWorker } from "../harness/worker-process.js";

const fixture = fileURLToPath(new URL("../fixtures/memory-worker.mjs", import.meta.url));

async function scrape(port: number, series: string): Promise<number | undefined> {
  const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = body.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("a drain seen from outside", () => {
  it("metrics while it runs, one summary line when it ends", async () => {
    const proc = spawnWorker(fixture, { env: { FIXTURE_JOBS: "1", FIXTURE_JOB_MS: "2500", QUIESCE_LOG_LEVEL: "info", POD_NAME: undefined, POD_NAMESPACE: undefined, KUBERNETES_SERVICE_HOST: undefined } });
    const port = Number((await proc.waitForLine(/"event":"ready","port":(\d+)/, { stream: "stdout", timeoutMs: 15_000 }))[1]);
    await proc.waitForLine(/"event":"job-started"/, { stream: "stdout", timeoutMs: 5000 });
    expect(await scrape(port, 'quiesce_jobs_in_flight{queue="memory"}')).toBe(1);
    expect(await scrape(port, "quiesce_drain_duration_seconds")).toBeUndefined();

    proc.signal("SIGTERM");
    await proc.waitForLine(/"event":"drain-started"/, { stream: "stdout", timeoutMs: 5000 });
    // The age grows while the job finishes; the pod is not ready but still scraped.
    const first = await pollUntil(() => scrape(port, "quiesce_drain_duration_seconds"), { timeoutMs: 5000, message: "drain age exported" });
    await pollUntil(async () => ((await scrape(port, "quiesce_drain_duration_seconds")) ?? 0) >= first + 0.5, { timeoutMs: 5000, message: "drain age grows" });

    const exit = await proc.waitForExit(20_000);
    expect(exit.code, exit.stderr).toBe(0);
    const records = exit.stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
    const summaries = records.filter((r) => String(r.msg).startsWith("drain finished"));
    expect(summaries).toHaveLength(1);
    const [summary] = summaries;
    expect(summary!.msg).toMatch(/^drain finished \(graceful, reason SIGTERM, exit 0\) in \d+\.\d s: 1 completed, 0 failed, 0 released, 0 interrupted$/);
    expect(summary).toMatchObject({ level: "info", reason: "SIGTERM", path: "graceful", exitCode: 0, completed: 1, interrupted: 0 });
    expect(summary!.durationMs).toBeGreaterThanOrEqual(first * 1000);
  });
});
