// @servers postgres
// The pg-worker example as a user runs it: against its own database, it writes every job's result
// in a transaction and exits 0 once the queue is empty.
import { fileURLToPath } from "node:url";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { servers } from "../harness/servers.js";
import { uniqueName } from "../harness/unique.js";
import { spawnWorker } from "../harness/worker-process.js";

const example = fileURLToPath(new URL("../../packages/examples/dist/pg-worker/worker.js", import.meta.url));

describe("packages/examples/pg-worker", () => {
  it("writes each job's result and the totals, then exits 0 on an empty queue", async () => {
    const { url } = servers().postgres;
    const database = uniqueName("example_db");
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create database ${database}`);
    const dbUrl = new URL(url);
    dbUrl.pathname = `/${database}`;
    try {
      const proc = spawnWorker(example, { env: { DATABASE_URL: dbUrl.href, EXAMPLE_JOBS: "12", EXAMPLE_JOB_MS: "20", QUIESCE_CONCURRENCY: "3", QUIESCE_HTTP_PORT: "0" } });
      const exit = await proc.waitForExit(30_000);
      expect(exit.code).toBe(0);
      expect(exit.stdout).toContain("quiesce pg example: 12 completed, 0 failed, 0 released");
      expect(exit.stderr).toContain(`pg pool \\"images\\": max 3 connections (the worker's concurrency 3; no fleet budget set)`);
      const client = new pg.Client({ connectionString: dbUrl.href });
      await client.connect();
      try {
        const rows = await client.query<{ results: number; images: number }>("select (select count(*)::int from image_results) as results, images from image_totals");
        expect(rows.rows).toEqual([{ results: 12, images: 12 }]);
      } finally {
        await client.end();
      }
    } finally {
      await admin.query(`drop database if exists ${database} with (force)`);
      await admin.end();
    }
  });
});
