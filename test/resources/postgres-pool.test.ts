// @servers postgres
// A real pg.Pool in a real worker process, watched from the server's side (pg_stat_activity):
// connections held while busy, idled down while idle, ended after the drain (never under a
// running query), and a pool that cannot end does not keep the process from exiting.
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { named, parseEvents, type FixtureEvent } from "../lifecycle/events.js";
import { pollUntil } from "../harness/poll-until.js";
import { servers } from "../harness/servers.js";
import { uniqueName } from "../harness/unique.js";
import { spawnWorker, type WorkerProcess } from "../harness/worker-process.js";

const fixture = fileURLToPath(new URL("../fixtures/pg-worker.mjs", import.meta.url));

interface Connections {
  /** Every backend of this application_name. */
  readonly total: number;
  /** Of those, the ones running `pg_sleep` right now. */
  readonly sleeping: number;
  /** Of those, the ones idle inside an open transaction (a leaked client). */
  readonly idleInTransaction: number;
}

// The observer: a client of its own, with its own application_name, so it never counts itself.
let observer: pg.Client;

beforeAll(async () => {
  observer = new pg.Client({ connectionString: servers().postgres.url, application_name: "pool-test-observer" });
  await observer.connect();
});

afterAll(async () => {
  await observer?.end();
});

async function connections(app: string): Promise<Connections> {
  const { rows } = await observer.query<Connections>(
    `select count(*)::int as total,
            count(*) filter (where state = 'active' and query like '%pg_sleep%')::int as sleeping,
            count(*) filter (where state = 'idle in transaction')::int as "idleInTransaction"
       from pg_stat_activity
      where application_name = $1`,
    [app],
  );
  const row = rows[0];
  if (!row) throw new Error("pg_stat_activity: no row");
  return row;
}

async function startFixture(env: Record<string, string>): Promise<{ proc: WorkerProcess; port: number; app: string }> {
  const app = uniqueName("pool");
  const proc = spawnWorker(fixture, { env: { QUIESCE_LOG_LEVEL: "warn", PG_URL: servers().postgres.url, PG_APP: app, ...env } });
  const ready = await proc.waitForLine(/"event":"ready","port":(\d+)/, { stream: "stdout", timeoutMs: 15_000 });
  return { proc, port: Number(ready[1]), app };
}

async function status(port: number): Promise<{ state: string; inFlight: number; completed: number }> {
  const res = await fetch(`http://127.0.0.1:${port}/status`);
  return (await res.json()) as { state: string; inFlight: number; completed: number };
}

interface Report {
  readonly exitCode: number;
  readonly path: string;
  readonly completed: number;
  readonly failed: number;
  readonly cleanupErrors: readonly string[];
}
const reportOf = (events: readonly FixtureEvent[]): Report | undefined => named(events, "drained")[0]?.report as Report | undefined;
const poolAtExit = (events: readonly FixtureEvent[]) =>
  named(events, "exit")[0]?.pool as { total: number; ending: boolean; ended: boolean } | undefined;
const indexOf = (events: readonly FixtureEvent[], name: string): number => events.findIndex((e) => e.event === name);

describe("pg.Pool as a worker resource", () => {
  it("holds connections while busy, then idles down to 0 while the worker stays up, ready and idle", async () => {
    const { proc, port, app } = await startFixture({ FIXTURE_JOBS: "8", FIXTURE_SLEEP_S: "0.6", QUIESCE_CONCURRENCY: "4" });

    // (a) Busy: the four running jobs each hold a connection (pool max 4), all inside pg_sleep.
    const samples: Connections[] = [];
    await pollUntil(
      async () => {
        const c = await connections(app);
        samples.push(c);
        return c.sleeping === 4;
      },
      { timeoutMs: 10_000, message: "4 connections running pg_sleep" },
    );
    await pollUntil(
      async () => {
        samples.push(await connections(app));
        return (await status(port)).completed === 8;
      },
      { timeoutMs: 15_000, message: "all 8 jobs completed" },
    );
    expect(Math.max(...samples.map((s) => s.total))).toBe(4);

    // (b) Idle: past idleTimeoutMillis (300 ms) the pool has closed every connection...
    await pollUntil(async () => (await connections(app)).total === 0, { timeoutMs: 5000, message: "the pool idled down to 0 connections" });
    // The pool reports each removal once the client's socket closed, which can trail the server's view.
    const removed = await pollUntil(
      () => {
        const events = named(parseEvents(proc.stdout), "pool-remove");
        return events.length >= 4 && events.at(-1)?.total === 0 && events;
      },
      { message: "the pool's own remove events down to 0 clients" },
    );
    expect(removed.every((e) => e.ending === false)).toBe(true);
    // ...by itself: the worker is still running, ready and idle, not drained.
    expect(proc.exit).toBeUndefined();
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    expect(await status(port)).toMatchObject({ state: "idle", inFlight: 0, completed: 8 });
    expect(named(parseEvents(proc.stdout), "drain-started")).toHaveLength(0);

    proc.signal("SIGTERM");
    const exit = await proc.waitForExit(10_000);
    expect(exit.code).toBe(0);
    expect(reportOf(parseEvents(exit.stdout))).toMatchObject({ exitCode: 0, completed: 8, failed: 0, cleanupErrors: [] });
  });

  it("SIGTERM during a query: the query finishes on its open pool, then the pool ends (0 connections), then exit 0", async () => {
    const { proc, app } = await startFixture({ FIXTURE_JOBS: "1", FIXTURE_SLEEP_S: "1.5", FIXTURE_HOLD_EXIT: "1" });
    await pollUntil(async () => (await connections(app)).sleeping === 1, { timeoutMs: 10_000, message: "the job's query is running" });

    proc.signal("SIGTERM");
    await proc.waitForLine(/"event":"drain-started"/, { stream: "stdout", timeoutMs: 5000 });
    // Draining, and the query still runs on its connection: nothing closed the pool under it.
    expect(await connections(app)).toMatchObject({ total: 1, sleeping: 1 });

    await proc.waitForLine(/"event":"holding-exit"/, { stream: "stdout", timeoutMs: 10_000 });
    const events = parseEvents(proc.stdout);
    const finished = named(events, "job-finished")[0];
    // The job completed while draining, with the pool open; the pool was ended only afterwards.
    expect(finished).toMatchObject({ draining: true, pool: { ending: false, ended: false } });
    expect(indexOf(events, "job-finished")).toBeLessThan(indexOf(events, "drained"));
    expect(reportOf(events)).toMatchObject({ exitCode: 0, path: "graceful", completed: 1, failed: 0, cleanupErrors: [] });
    expect(poolAtExit(events)).toMatchObject({ total: 0, ending: true, ended: true });
    // The process is still alive (held): the 0 on the server is the pool's own doing, not the exit's.
    await pollUntil(async () => (await connections(app)).total === 0, { timeoutMs: 5000, message: "the ended pool's connections are gone" });
    expect(proc.exit).toBeUndefined();

    proc.signal("SIGUSR2");
    const exit = await proc.waitForExit(10_000);
    expect(exit.code).toBe(0);
  });

  it("a pool whose end() hangs on a stuck connection is abandoned after closeTimeoutMs: exit 0, the report names it", async () => {
    const { proc, app } = await startFixture({ FIXTURE_FAULT: "hang", FIXTURE_CLOSE_TIMEOUT_MS: "1000" });
    await pollUntil(async () => (await connections(app)).idleInTransaction === 1, { message: "the leaked client's open transaction" });

    const sentAt = performance.now();
    proc.signal("SIGTERM");
    const exit = await proc.waitForExit(15_000);
    const took = performance.now() - sentAt;

    // Exit code: every started job finished (there were none), so 0; the failed close is reported, not fatal.
    expect(exit.code).toBe(0);
    const events = parseEvents(exit.stdout);
    expect(reportOf(events)).toMatchObject({ exitCode: 0, path: "graceful" });
    expect(reportOf(events)?.cleanupErrors).toEqual([
      'pg: pool "pg" did not end within 1000 ms (a connection is still checked out or stuck); moving on without it',
    ]);
    expect(poolAtExit(events)).toMatchObject({ ending: true, ended: false, total: 1 });
    // Held for the bound, not forever.
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(5000);
    // The process exit closed the stuck session.
    await pollUntil(async () => (await connections(app)).total === 0, { message: "the stuck session is gone after the exit" });
  });

  it("a resource whose end() throws is reported by name and the pg pool behind it still ends: exit 0", async () => {
    // A long idle timeout, so the connections are still open at SIGTERM and only end() can close them.
    const { proc, port, app } = await startFixture({
      FIXTURE_FAULT: "throw",
      FIXTURE_JOBS: "2",
      FIXTURE_SLEEP_S: "0.1",
      QUIESCE_CONCURRENCY: "2",
      FIXTURE_IDLE_MS: "60000",
      FIXTURE_HOLD_EXIT: "1",
    });
    await pollUntil(async () => (await status(port)).completed === 2, { timeoutMs: 10_000, message: "both jobs completed" });
    expect((await connections(app)).total).toBeGreaterThan(0);

    proc.signal("SIGTERM");
    await proc.waitForLine(/"event":"holding-exit"/, { stream: "stdout", timeoutMs: 10_000 });
    const events = parseEvents(proc.stdout);
    expect(reportOf(events)).toMatchObject({ exitCode: 0, completed: 2, cleanupErrors: ["broken: end exploded"] });
    expect(poolAtExit(events)).toMatchObject({ total: 0, ended: true });
    await pollUntil(async () => (await connections(app)).total === 0, { message: "the pg pool's connections are gone" });
    expect(proc.exit).toBeUndefined();

    proc.signal("SIGUSR2");
    expect((await proc.waitForExit(10_000)).code).toBe(0);
  });
});
