// @servers none
// What a worker loads before it is needed: prom-client only at the first scrape, client-node never
// without the pod reporter. Seen in a real process, where nothing else has loaded them already.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { spawnWorker } from "../harness/worker-process.js";

const fixture = fileURLToPath(new URL("../fixtures/lazy-imports.mjs", import.meta.url));

describe("lazy imports", () => {
  it("a ready worker that has run a job has not loaded prom-client; the first /metrics loads it and counts the job", async () => {
    const proc = spawnWorker(fixture, { env: { QUIESCE_LOG_LEVEL: "warn" } });
    const ready = await proc.waitForLine(/\{"event":"ready".*\}/, { stream: "stdout", timeoutMs: 20_000 });
    expect(JSON.parse(ready[0])).toEqual({ event: "ready", status: 200, promClient: false, clientNode: false });
    const scraped = await proc.waitForLine(/\{"event":"scraped".*\}/, { stream: "stdout", timeoutMs: 20_000 });
    expect(JSON.parse(scraped[0])).toEqual({ event: "scraped", promClient: true, completed: true });
    expect((await proc.waitForExit(20_000)).code).toBe(0);
  });
});
