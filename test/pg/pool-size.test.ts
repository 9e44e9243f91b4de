// @servers postgres
// pgResource sized by the worker: 20 jobs at concurrency 5 never hold more than 5 sessions on the
// server, and once quiet the pool idles down to none while the worker stays up. Metrics show it.
import { describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { servers } from "../harness/servers.js";
import { samples } from "../../packages/sdk/test/metrics/exposition.js";
import { useObserver, sessions, startFixture, status, type Sessions } from "./helpers.js";

const watch = useObserver();

describe("pgResource sized to the worker", () => {
  it("20 jobs at concurrency 5: never more than 5 sessions, 0 after the quiet spell, and the metrics say so", async () => {
    const { url } = servers().postgres;
    const { proc, port, app } = await startFixture(url, {
      QUIESCE_LOG_LEVEL: "info",
      QUIESCE_CONCURRENCY: "5",
      FIXTURE_JOBS: "20",
      FIXTURE_SLEEP_S: "0.4",
      FIXTURE_IDLE_MS: "1000",
    });
    // The start-up line: max from the concurrency, no budget.
    expect(proc.stderr).toContain(`pg pool \\"db\\": max 5 connections (the worker's concurrency 5; no fleet budget set)`);

    const seen: Sessions[] = [];
    let busyScrape = "";
    await pollUntil(
      async () => {
        const now = await sessions(watch.client, app);
        seen.push(now);
        if (now.sleeping === 5 && busyScrape === "") busyScrape = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return (await status(port)).completed === 20;
      },
      { timeoutMs: 30_000, intervalMs: 25, message: "all 20 jobs completed" },
    );
    expect(Math.max(...seen.map((s) => s.total))).toBe(5);
    expect(seen.some((s) => s.sleeping === 5)).toBe(true);

    // While 5 ran, the gauge showed 5 busy and the other jobs... none waiting: concurrency = max.
    const busy = samples(busyScrape).filter((s) => s.name === "quiesce_pool_connections" && s.labels["pool"] === "db");
    expect(Object.fromEntries(busy.map((s) => [s.labels["state"], s.value]))).toMatchObject({ busy: 5, waiting: 0 });

    // Quiet: after idleTimeoutMs every session is gone, and the worker is still up and idle.
    await pollUntil(async () => (await sessions(watch.client, app)).total === 0, { timeoutMs: 10_000, message: "the pool idled down to 0 sessions" });
    expect(proc.exit).toBeUndefined();
    expect(await status(port)).toMatchObject({ state: "idle", inFlight: 0, completed: 20 });
    const idle = samples(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    const gauge = (state: string) => idle.find((s) => s.name === "quiesce_pool_connections" && s.labels["pool"] === "db" && s.labels["state"] === state)?.value;
    await pollUntil(async () => {
      const now = samples(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      return now.find((s) => s.name === "quiesce_pool_connections" && s.labels["state"] === "idle")?.value === 0;
    }, { message: "the idle gauge at 0 (the pool's own count trails the server's by a socket close)" });
    expect(gauge("busy")).toBe(0);
    expect(gauge("waiting")).toBe(0);
    // One checkout per job, each timed.
    expect(idle.find((s) => s.name === "quiesce_pool_wait_seconds_count" && s.labels["pool"] === "db")?.value).toBe(20);

    proc.signal("SIGTERM");
    const exit = await proc.waitForExit(10_000);
    expect(exit.code).toBe(0);
  });
});
