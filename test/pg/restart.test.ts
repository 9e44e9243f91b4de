// @servers none
// PostgreSQL restarted under a working pgResource (a private server: the shared one is never
// restarted): the jobs it hits fail through the retry path, the pool replaces its dead
// connections, and every job's row ends up committed exactly once.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { named } from "../lifecycle/events.js";
import { pollUntil } from "../harness/poll-until.js";
import { startPostgres, type PostgresServer } from "../harness/postgres.js";
import { eventsOf, reportOf, startFixture, status } from "./helpers.js";

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

async function rowCount(table: string): Promise<number> {
  // A fresh client each time: the restart kills long-lived ones.
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from ${table}`);
    return rows[0]?.n ?? -1;
  } finally {
    await client.end();
  }
}

describe("PostgreSQL restarted mid-run", () => {
  it("affected jobs fail through the retry path, the pool recovers, nothing is lost", async () => {
    const table = "restart_rows";
    const setup = new pg.Client({ connectionString: server.url });
    await setup.connect();
    await setup.query(`create table ${table} (n int primary key, attempt int not null, pid int not null)`);
    await setup.end();

    const jobs = 30;
    const { proc, port } = await startFixture(server.url, {
      FIXTURE_MODE: "commit",
      FIXTURE_TABLE: table,
      FIXTURE_JOBS: String(jobs),
      FIXTURE_SLEEP_S: "0.3",
      QUIESCE_CONCURRENCY: "3",
      // Enough attempts, spaced out, to outlast a restart (~1-2 s here) by far.
      FIXTURE_MAX_ATTEMPTS: "30",
      FIXTURE_RETRY_MS: "300",
    });
    await pollUntil(async () => (await rowCount(table)) >= 5, { timeoutMs: 20_000, message: "a few rows committed before the restart" });
    // Three transactions are open (in pg_sleep) as the server goes away.
    const finishedBefore = named(eventsOf(proc), "job-finished").length;
    await server.restart();

    await pollUntil(async () => (await status(port)).completed === jobs, { timeoutMs: 45_000, intervalMs: 100, message: `all ${jobs} jobs completed after the restart` });
    const failures = named(eventsOf(proc), "job-failed");
    expect(failures.length).toBeGreaterThan(0);
    // Every job retried after a failure started again with a higher attempt.
    const retried = named(eventsOf(proc), "job-started").filter((e) => (e["attempt"] as number) > 1);
    expect(retried.length).toBeGreaterThan(0);
    expect(await rowCount(table)).toBe(jobs);
    // The pool recovered: most of the work was committed after the restart, on new connections.
    expect(finishedBefore).toBeLessThan(jobs);
    expect(named(eventsOf(proc), "job-finished").length - finishedBefore).toBeGreaterThan(0);

    proc.signal("SIGTERM");
    const exit = await proc.waitForExit(15_000);
    expect(exit.code).toBe(0);
    const events = eventsOf(proc);
    expect(reportOf(events)).toMatchObject({ exitCode: 0, completed: jobs, failed: failures.length, cleanupErrors: [] });
    expect(named(events, "drained")[0]).toMatchObject({ deadLetters: 0 });
    // No uncaught error from the dead idle connections: the resource logged them instead.
    expect(exit.stderr).not.toMatch(/uncaught/i);
  });
});
