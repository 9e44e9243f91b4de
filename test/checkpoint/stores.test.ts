// @servers redis postgres
// The two checkpoint stores on real servers: the store contract, and a job resumed from the
// store alone (its source keeps no checkpoints) after a drain released it at the deadline.
import { createPgCheckpointStore } from "@quiesce/adapters/checkpoint-pg";
import { createRedisCheckpointStore } from "@quiesce/adapters/checkpoint-redis";
import { createMemorySource, createWorker, type CheckpointStore, type JobContext } from "@quiesce/sdk";
import { describeCheckpointStoreConformance, pollUntil, withoutCheckpoints } from "@quiesce/sdk/testing";
import { Redis } from "ioredis";
import pg from "pg";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { servers } from "../harness/servers.js";
import { uniqueName } from "../harness/unique.js";

interface Made {
  readonly store: CheckpointStore;
  /** Every key the store holds now. */
  keys(): Promise<string[]>;
  cleanup(): Promise<void>;
}

async function redisStore(): Promise<Made> {
  const client = new Redis({ host: "127.0.0.1", port: servers().redis.port });
  const prefix = `${uniqueName("ckpt")}:`;
  return {
    store: createRedisCheckpointStore({ client, prefix }),
    keys: async () => (await client.keys(`${prefix}*`)).map((k) => k.slice(prefix.length)),
    async cleanup() {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length) await client.del(...keys);
      await client.quit();
    },
  };
}

async function pgStore(): Promise<Made> {
  const pool = new pg.Pool({ connectionString: servers().postgres.url, max: 2 });
  const table = uniqueName("ckpt").replace(/[^A-Za-z0-9_]/g, "_");
  return {
    store: createPgCheckpointStore({ pool, table }),
    keys: async () => (await pool.query<{ key: string }>(`SELECT key FROM ${table}`)).rows.map((r) => r.key),
    async cleanup() {
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      await pool.end();
    },
  };
}

const stores = { redis: redisStore, postgres: pgStore };

for (const [name, make] of Object.entries(stores)) describeCheckpointStoreConformance(name, make);

describe("checkpoint stores: a job resumes from the store alone", () => {
  for (const [name, make] of Object.entries(stores)) {
    it(`${name}: released at the deadline, resumed by the next worker after the last checkpoint, the entry gone once done`, async () => {
      const made = await make();
      try {
        const source = withoutCheckpoints(createMemorySource({ name: "plain" }));
        source.add({ steps: 10 });
        const started: number[] = [];
        let checkpointed = 0;
        const handler = async (_p: unknown, ctx: JobContext) => {
          const from = (ctx.lastCheckpoint as { step: number } | undefined)?.step ?? 0;
          for (let step = from + 1; step <= 10; step++) {
            started.push(step);
            await sleep(100, undefined, { signal: ctx.signal }).catch(() => undefined);
            if (ctx.signal.aborted) return "interrupted";
            await ctx.checkpoint({ step });
            checkpointed = step;
          }
          return "done";
        };
        const options = { http: false, handleSignals: false, exit: false, handler, checkpoints: { store: made.store, drain: "deadline" } } as const;
        const first = createWorker({ source, graceSeconds: 1.5, safetyMarginMs: 1_000, ...options });
        await first.start();
        await pollUntil(() => checkpointed >= 2, { timeoutMs: 10_000 });
        expect((await first.drain("scale-down")).released).toBe(1);
        const last = checkpointed;
        expect(await made.keys()).toEqual(["plain:1"]);
        const second = createWorker({ source, ...options });
        await second.start();
        // The worker's count, not the source's: the ack lands in the source before the worker counts it.
        await pollUntil(() => second.status().completed === 1, { timeoutMs: 10_000 });
        expect(second.status()).toMatchObject({ resumed: 1, completed: 1 });
        await second.drain();
        expect(source.completed()[0]?.result).toBe("done");
        expect(started.indexOf(last + 1, started.indexOf(last) + 1)).toBeGreaterThan(started.indexOf(last));
        expect(new Set(started).size).toBe(10);
        expect(started.length).toBeLessThanOrEqual(11);
        expect(await made.keys()).toEqual([]);
      } finally {
        await made.cleanup();
      }
    });
  }
});
