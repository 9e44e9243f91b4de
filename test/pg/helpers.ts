// Shared by the pgResource tests: a worker process over the fixture, and an observer that counts
// the worker's sessions from the server's side (pg_stat_activity), never counting itself.
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { named, parseEvents, type FixtureEvent } from "../lifecycle/events.js";
import { servers } from "../harness/servers.js";
import { uniqueName } from "../harness/unique.js";
import { spawnWorker, type WorkerProcess } from "../harness/worker-process.js";

export const fixture = fileURLToPath(new URL("../fixtures/pg-resource-worker.mjs", import.meta.url));

export interface Sessions {
  /** Every backend whose application_name matches. */
  readonly total: number;
  /** Of those, the ones running `pg_sleep` now. */
  readonly sleeping: number;
}

/** Counts sessions by application_name (`like`, so a prefix with `%` counts a whole fleet). */
export async function sessions(observer: pg.Client, appPattern: string): Promise<Sessions> {
  const { rows } = await observer.query<Sessions>(
    `select count(*)::int as total,
            count(*) filter (where state = 'active' and query like '%pg_sleep%')::int as sleeping
       from pg_stat_activity
      where application_name like $1 and pid <> pg_backend_pid()`,
    [appPattern],
  );
  const row = rows[0];
  if (!row) throw new Error("pg_stat_activity: no row");
  return row;
}

/** The observer for a whole test file, on the shared server: connected before its tests, ended after. */
export function useObserver(): { readonly client: pg.Client } {
  const holder = {} as { client: pg.Client };
  beforeAll(async () => {
    holder.client = new pg.Client({ connectionString: servers().postgres.url, application_name: "pg-resource-observer" });
    await holder.client.connect();
  });
  afterAll(async () => {
    await holder.client?.end();
  });
  return holder;
}

export interface StartedFixture {
  readonly proc: WorkerProcess;
  readonly port: number;
  readonly app: string;
}

/** Spawn the fixture and wait for it to be idle and ready; `app` is a fresh application_name unless given. */
export async function startFixture(url: string, env: Record<string, string>, app = uniqueName("pgres")): Promise<StartedFixture> {
  const proc = spawnWorker(fixture, { env: { QUIESCE_LOG_LEVEL: "warn", PG_URL: url, PG_APP: app, ...env } });
  const ready = await proc.waitForLine(/"event":"ready","port":(\d+)/, { stream: "stdout", timeoutMs: 20_000 });
  return { proc, port: Number(ready[1]), app };
}

export async function status(port: number): Promise<{ state: string; inFlight: number; completed: number; failed: number }> {
  const res = await fetch(`http://127.0.0.1:${port}/status`);
  return (await res.json()) as { state: string; inFlight: number; completed: number; failed: number };
}

export interface Report {
  readonly exitCode: number;
  readonly path: string;
  readonly completed: number;
  readonly failed: number;
  readonly released: number;
  readonly cleanupErrors: readonly string[];
}

export const reportOf = (events: readonly FixtureEvent[]): Report | undefined => named(events, "drained")[0]?.report as Report | undefined;
export const eventsOf = (proc: WorkerProcess): FixtureEvent[] => parseEvents(proc.stdout);
export const indexOf = (events: readonly FixtureEvent[], name: string): number => events.findIndex((e) => e.event === name);
export const lastIndexOf = (events: readonly FixtureEvent[], name: string): number => events.map((e) => e.event).lastIndexOf(name);
