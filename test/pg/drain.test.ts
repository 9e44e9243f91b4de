// @servers postgres
// pgResource through a real drain, in a real worker process, on real signals: jobs in flight commit
// before the pool ends, and a query still running at the deadline is cancelled on the server.
import { describe, expect, it } from "vitest";
import { named } from "../lifecycle/events.js";
import { pollUntil } from "../harness/poll-until.js";
import { servers } from "../harness/servers.js";
import { uniqueName } from "../harness/unique.js";
import { useObserver, eventsOf, indexOf, lastIndexOf, reportOf, sessions, startFixture } from "./helpers.js";

const watch = useObserver();

describe("pgResource through the drain", () => {
  it("SIGTERM during 5 in-flight jobs that each commit a row: all 5 rows committed, then the pool closes, then exit 0", async () => {
    const table = uniqueName("drain_rows");
    await watch.client.query(`create table ${table} (n int primary key, attempt int not null, pid int not null)`);
    const { proc, app } = await startFixture(servers().postgres.url, {
      FIXTURE_MODE: "commit",
      FIXTURE_TABLE: table,
      FIXTURE_JOBS: "5",
      FIXTURE_SLEEP_S: "1.5",
      QUIESCE_CONCURRENCY: "5",
      FIXTURE_HOLD_EXIT: "1",
    });
    await pollUntil(async () => (await sessions(watch.client, app)).sleeping === 5, { timeoutMs: 10_000, message: "5 transactions in their sleep" });
    // Inside their transactions: nothing is visible yet.
    expect((await watch.client.query(`select count(*)::int as n from ${table}`)).rows[0]).toEqual({ n: 0 });

    proc.signal("SIGTERM");
    await proc.waitForLine(/"event":"holding-exit"/, { stream: "stdout", timeoutMs: 15_000 });
    const events = eventsOf(proc);
    // All five finished while draining, on an open pool; the drain ended after the last one.
    const finished = named(events, "job-finished");
    expect(finished).toHaveLength(5);
    expect(finished.every((e) => e["draining"] === true && (e["pool"] as { ending: boolean }).ending === false)).toBe(true);
    expect(lastIndexOf(events, "job-finished")).toBeLessThan(indexOf(events, "drained"));
    expect(reportOf(events)).toMatchObject({ exitCode: 0, path: "graceful", completed: 5, failed: 0, released: 0, cleanupErrors: [] });
    // Then the pool closed: ended at the exit hook, and no session left on the server while the process is still alive.
    expect(named(events, "exit")[0]).toMatchObject({ code: 0, pool: { total: 0, ended: true } });
    await pollUntil(async () => (await sessions(watch.client, app)).total === 0, { message: "the ended pool's sessions are gone" });
    expect(proc.exit).toBeUndefined();
    const { rows } = await watch.client.query<{ n: number }>(`select n from ${table} order by n`);
    expect(rows.map((r) => r.n)).toEqual([0, 1, 2, 3, 4]);

    proc.signal("SIGUSR2");
    expect((await proc.waitForExit(10_000)).code).toBe(0);
    await watch.client.query(`drop table ${table}`);
  });

  it("a job aborted at the drain deadline while its 30 s query runs: the query is cancelled on the server within a second, the delivery released, the exit on time", async () => {
    const { proc, app } = await startFixture(servers().postgres.url, {
      FIXTURE_MODE: "sleep",
      FIXTURE_JOBS: "1",
      FIXTURE_SLEEP_S: "30",
      QUIESCE_GRACE_SECONDS: "3",
      QUIESCE_SAFETY_MARGIN_MS: "1000",
    });
    await pollUntil(async () => (await sessions(watch.client, app)).sleeping === 1, { timeoutMs: 10_000, message: "the 30 s query is running" });

    const sentAt = Date.now();
    proc.signal("SIGTERM");
    const started = await proc.waitForLine(/"event":"drain-started"/, { stream: "stdout", timeoutMs: 5000 });
    const deadline = (JSON.parse(started.input) as { deadline: number }).deadline;
    expect(deadline - sentAt).toBeGreaterThan(1000);
    expect(deadline - sentAt).toBeLessThan(3000);

    // Running until the deadline, gone from the server within a second of it.
    let goneAt = 0;
    await pollUntil(
      async () => {
        const now = await sessions(watch.client, app);
        if (now.sleeping === 0) goneAt = Date.now();
        return now.sleeping === 0;
      },
      { timeoutMs: 10_000, intervalMs: 20, message: "the 30 s query cancelled on the server" },
    );
    expect(goneAt).toBeGreaterThanOrEqual(deadline - 50);
    expect(goneAt - deadline).toBeLessThan(1000);

    const exit = await proc.waitForExit(10_000);
    const exitedAfter = Date.now() - sentAt;
    // 143: a signal made it hand work back. On time: before the 3 s grace period ran out.
    expect(exit.code).toBe(143);
    expect(exitedAfter).toBeLessThan(3000);
    const events = eventsOf(proc);
    expect(reportOf(events)).toMatchObject({ exitCode: 143, path: "forced", completed: 0, failed: 0, released: 1, cleanupErrors: [] });
    // The handler saw the deadline's reason, not a connection error: the cancel, not the pool's end, stopped it.
    expect(named(events, "job-error")[0]).toMatchObject({ aborted: true, name: "DrainDeadlineError" });
    await pollUntil(async () => (await sessions(watch.client, app)).total === 0, { message: "no session left after the exit" });
  });
});
