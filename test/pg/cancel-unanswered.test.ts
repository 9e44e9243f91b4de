// @servers none
// A cancel the server cannot answer (a private server, stopped with SIGSTOP): after
// cancelTimeoutMs the connection is destroyed rather than handed back with a query still on it,
// the caller gets its signal's reason, and once the server is back the pool opens a fresh one.
import { noopLogger } from "@quiesce/sdk";
import { pgResource } from "@quiesce/adapters/pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { startPostgres, type PostgresServer } from "../harness/postgres.js";

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

describe("a cancel request that gets no answer", () => {
  it("destroys the connection after cancelTimeoutMs; the pool then serves a new one", async () => {
    const warnings: string[] = [];
    const logger = { ...noopLogger, warn: (_: object | string, message?: string) => void warnings.push(message ?? ""), child: () => logger };
    const db = pgResource({ name: "stuck", cancelTimeoutMs: 500, connection: { connectionString: server.url } });
    await db.start({ concurrency: 1, connectionBudget: null, logger, observeWait: () => undefined });
    try {
      const first = (await db.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]?.pid;
      const abort = new AbortController();
      const running = db.query("select pg_sleep(30)", [], { signal: abort.signal }).catch((error: unknown) => error);
      await pollUntil(() => db.connections().busy === 1, { message: "the query checked out its connection" });
      server.pause();
      const abortedAt = performance.now();
      const reason = new Error("deadline");
      abort.abort(reason);
      expect(await running).toBe(reason);
      const took = performance.now() - abortedAt;
      expect(took).toBeGreaterThanOrEqual(450);
      expect(took).toBeLessThan(3000);
      expect(warnings).toContain("pg query not cancelled in time; destroying its connection");
      // Destroyed, not returned to the pool.
      await pollUntil(() => db.connections().idle === 0 && db.connections().busy === 0, { message: "the connection left the pool" });

      server.resume();
      const next = (await db.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]?.pid;
      expect(next).toBeTypeOf("number");
      expect(next).not.toBe(first);
    } finally {
      server.resume();
      await db.close();
    }
  });
});
