// @servers postgres
// The fleet budget: ten worker processes, QUIESCE_DB_MAX_CONNECTIONS=20 and QUIESCE_MAX_REPLICAS=10,
// each with more work than connections: never more than 20 sessions on the server in total, and
// all 20 in use at full load. Kept light for a 2-core machine: short sleeps, no HTTP polling.
import { describe, expect, it } from "vitest";
import { named } from "../lifecycle/events.js";
import { pollUntil } from "../harness/poll-until.js";
import { servers } from "../harness/servers.js";
import { uniqueName } from "../harness/unique.js";
import { useObserver, eventsOf, reportOf, sessions, startFixture, type StartedFixture } from "./helpers.js";

const watch = useObserver();

describe("the fleet connection budget", () => {
  it("ten workers with a budget of 20 connections and QUIESCE_MAX_REPLICAS=10: never more than 20 in total, under full load", async () => {
    const fleet = uniqueName("fleet");
    const replicas = 10;
    const jobsEach = 8;
    const env = {
      QUIESCE_LOG_LEVEL: "info",
      QUIESCE_DB_MAX_CONNECTIONS: "20",
      QUIESCE_MAX_REPLICAS: String(replicas),
      QUIESCE_CONCURRENCY: "4",
      FIXTURE_MODE: "sleep",
      FIXTURE_SLEEP_S: "0.4",
      FIXTURE_JOBS: String(jobsEach),
      FIXTURE_GO: "1",
    };
    const workers: StartedFixture[] = await Promise.all(
      Array.from({ length: replicas }, (_, i) => startFixture(servers().postgres.url, env, `${fleet}_${i}`)),
    );
    // Each worker said what it got: 2 connections, below its concurrency of 4.
    for (const { proc } of workers) {
      expect(proc.stderr).toContain(`max 2 connections (QUIESCE_DB_MAX_CONNECTIONS 20 ÷ QUIESCE_MAX_REPLICAS 10 = 2 per worker; the worker's concurrency asks for 4)`);
      expect(proc.stderr).toContain("below the worker's concurrency 4: up to 2 running jobs at a time wait for a connection");
    }

    // Load all ten at once, then watch the server until every job is done.
    for (const { proc } of workers) proc.signal("SIGUSR2");
    const totals: number[] = [];
    await pollUntil(
      async () => {
        totals.push((await sessions(watch.client, `${fleet}_%`)).total);
        return workers.every(({ proc }) => named(eventsOf(proc), "job-finished").length === jobsEach);
      },
      { timeoutMs: 45_000, intervalMs: 30, message: "every worker finished its jobs" },
    );
    expect(Math.max(...totals)).toBeLessThanOrEqual(20);
    // Full load did happen: every connection of the budget was open at once.
    expect(Math.max(...totals)).toBe(20);

    for (const { proc } of workers) proc.signal("SIGTERM");
    const exits = await Promise.all(workers.map(({ proc }) => proc.waitForExit(15_000)));
    expect(exits.map((exit) => exit.code)).toEqual(workers.map(() => 0));
    for (const { proc } of workers) expect(reportOf(eventsOf(proc))).toMatchObject({ completed: jobsEach, failed: 0, cleanupErrors: [] });
  });
});
