// @servers postgres
// A query whose signal aborts is cancelled on the server, and its connection goes back to the pool
// healthy (the same backend serves the next query). In-process, on the real server.
import { noopLogger, type ResourceContext } from "@quiesce/sdk";
import { pgResource } from "@quiesce/adapters/pg";
import { describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { servers } from "../harness/servers.js";
import { uniqueName } from "../harness/unique.js";
import { useObserver, sessions } from "./helpers.js";

const watch = useObserver();

const context = (concurrency = 1): ResourceContext => ({ concurrency, connectionBudget: null, logger: noopLogger, observeWait: () => undefined });

async function backendState(pid: number): Promise<{ state: string; query: string } | undefined> {
  const { rows } = await watch.client.query<{ state: string; query: string }>("select state, query from pg_stat_activity where pid = $1", [pid]);
  return rows[0];
}

const cases = [
  ["TCP", () => ({ connectionString: servers().postgres.url })],
  ["a Unix socket", () => ({ host: servers().postgres.socketDir, port: servers().postgres.port, user: "postgres", database: "postgres" })],
] as const;

describe.each(cases)("cancelling a query over %s", (_, connection) => {
  it("an abort mid-query cancels it on the server within a second; the same connection then serves the next query", async () => {
    const app = uniqueName("cancel");
    const db = pgResource({ name: "cancel", connection: { ...connection(), application_name: app } });
    await db.start(context());
    try {
      const { rows } = await db.query<{ pid: number }>("select pg_backend_pid() as pid");
      const pid = rows[0]?.pid;
      expect(pid).toBeTypeOf("number");

      const abort = new AbortController();
      const running = db.query("select pg_sleep(30)", [], { signal: abort.signal });
      const settled = running.then(
        () => ({ ok: true as const, error: undefined }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      await pollUntil(async () => (await sessions(watch.client, app)).sleeping === 1, { message: "the 30 s query is running" });

      const abortedAt = performance.now();
      const reason = new Error("job aborted");
      abort.abort(reason);
      const outcome = await settled;
      const rejectedAfter = performance.now() - abortedAt;
      await pollUntil(async () => (await sessions(watch.client, app)).sleeping === 0, { timeoutMs: 1000, intervalMs: 10, message: "the query gone from pg_stat_activity within 1 s" });
      expect(performance.now() - abortedAt).toBeLessThan(1000);
      // Rejected with the signal's reason, once the server had ended the query.
      expect(outcome.ok).toBe(false);
      expect(outcome.error).toBe(reason);
      expect(rejectedAfter).toBeLessThan(1000);

      // Healthy: back in the pool, idle on the server, and the same backend answers the next query.
      expect(db.connections()).toEqual({ idle: 1, busy: 0, waiting: 0 });
      expect((await backendState(pid as number))?.state).toBe("idle");
      const next = await db.query<{ pid: number; one: number }>("select pg_backend_pid() as pid, 1 as one");
      expect(next.rows[0]).toEqual({ pid, one: 1 });
      expect((await sessions(watch.client, app)).total).toBe(1);
    } finally {
      await db.close();
    }
  });
});

describe("aborts around the query", () => {
  it("a signal already aborted rejects before any connection is taken", async () => {
    const app = uniqueName("cancel");
    const db = pgResource({ name: "early", connection: { connectionString: servers().postgres.url, application_name: app } });
    await db.start(context());
    try {
      const reason = new Error("gone already");
      await expect(db.query("select 1", [], { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
      expect(db.pool.totalCount).toBe(0);
    } finally {
      await db.close();
    }
  });

  it("an abort while waiting for a connection gives up the wait at once; the connection, when free, stays in the pool", async () => {
    const app = uniqueName("cancel");
    const db = pgResource({ name: "wait", max: 1, connection: { connectionString: servers().postgres.url, application_name: app } });
    await db.start(context());
    try {
      const holder = db.query("select pg_sleep(0.5)");
      const abort = new AbortController();
      const waiting = db.query("select 1", [], { signal: abort.signal });
      await pollUntil(() => db.connections().waiting === 1, { message: "the second query waiting for the only connection" });
      const reason = new Error("deadline");
      abort.abort(reason);
      await expect(waiting).rejects.toBe(reason);
      await holder;
      await pollUntil(() => db.connections().waiting === 0 && db.connections().busy === 0, { message: "the pool settled" });
      expect(db.connections()).toEqual({ idle: 1, busy: 0, waiting: 0 });
      expect((await db.query<{ one: number }>("select 1 as one")).rows).toEqual([{ one: 1 }]);
    } finally {
      await db.close();
    }
  });

  it("an aborted transaction commits nothing and rolls back; its connection serves the next one", async () => {
    const app = uniqueName("cancel");
    const table = uniqueName("cancel_tx");
    await watch.client.query(`create table ${table} (n int primary key)`);
    const db = pgResource({ name: "tx", connection: { connectionString: servers().postgres.url, application_name: app } });
    await db.start(context());
    try {
      const abort = new AbortController();
      const tx = db.transaction(
        async (q) => {
          await q.query(`insert into ${table} values (1)`);
          await q.query("select pg_sleep(30)");
        },
        { signal: abort.signal },
      );
      const failed = tx.catch((error: unknown) => error);
      await pollUntil(async () => (await sessions(watch.client, app)).sleeping === 1, { message: "the transaction's sleep is running" });
      abort.abort(new Error("stop"));
      expect(((await failed) as Error).message).toBe("stop");
      expect((await watch.client.query(`select count(*)::int as n from ${table}`)).rows[0]).toEqual({ n: 0 });
      await db.transaction((q) => q.query(`insert into ${table} values (2)`));
      expect((await watch.client.query(`select n from ${table}`)).rows).toEqual([{ n: 2 }]);
      expect((await sessions(watch.client, app)).total).toBe(1);
    } finally {
      await db.close();
      await watch.client.query(`drop table ${table}`);
    }
  });
});
