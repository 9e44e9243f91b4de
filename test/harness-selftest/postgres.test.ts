// @servers none
// The PostgreSQL part of the harness against the real server and pg.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { listeningSockets } from "../harness/proc.js";
import { startPostgres } from "../harness/postgres.js";
import { expectNothingLeft, footprintOf } from "./leftovers.js";

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("startPostgres", () => {
  it("answers select 1 on 127.0.0.1 only, keeps data over restart(), stop() leaves nothing", async () => {
    const t0 = performance.now();
    const server = await startPostgres();
    const startMs = performance.now() - t0;
    try {
      expect(server.port).not.toBe(5432);
      expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
      expect(await query<{ one: number }>(server.url, "select 1 as one")).toEqual([{ one: 1 }]);
      const sockets = listeningSockets([server.pid]);
      expect(sockets.map((s) => `${s.address}:${s.port}`)).toEqual([`127.0.0.1:${server.port}`]);

      await query(server.url, "create table kept (v text); insert into kept values ('before restart')");
      const { port, pid } = server;
      await server.restart();
      expect(server.port).toBe(port);
      expect(server.pid).not.toBe(pid);
      expect(await query(server.url, "select v from kept")).toEqual([{ v: "before restart" }]);
    } finally {
      const footprint = footprintOf(server);
      const t1 = performance.now();
      await server.stop();
      console.log(`postgres: start ${startMs.toFixed(0)} ms, stop ${(performance.now() - t1).toFixed(0)} ms`);
      await expectNothingLeft(footprint);
    }
  });

  it("stop() is fast with a client still connected (fast shutdown), backends included", async () => {
    const server = await startPostgres();
    const client = new pg.Client({ connectionString: server.url });
    client.on("error", () => undefined); // the server ends the session
    await client.connect();
    const footprint = footprintOf(server); // includes the client's backend (its own session)
    expect(footprint.pids.length).toBeGreaterThan(3);
    const t0 = performance.now();
    await server.stop();
    expect(performance.now() - t0).toBeLessThan(5_000);
    await expectNothingLeft(footprint);
    await client.end().catch(() => undefined);
  });

  it("pause() makes a query time out; resume() serves it again", async () => {
    const server = await startPostgres();
    try {
      const client = new pg.Client({ connectionString: server.url, query_timeout: 300 });
      client.on("error", () => undefined); // if an assertion fails, stop() ends the session
      await client.connect();
      server.pause();
      await expect(client.query("select 1")).rejects.toThrow(/timeout/i);
      server.resume();
      // The timed-out query's answer arrives first; a fresh connection proves the server is back.
      expect(await query<{ one: number }>(server.url, "select 1 as one")).toEqual([{ one: 1 }]);
      await client.end();
    } finally {
      await server.stop();
    }
  });
});
