/**
 * A worker that writes each job's result to PostgreSQL in a transaction, as the image pipeline
 * does: jobs from the embedded queue (EXAMPLE_JOBS pretend images), a pretend resize of
 * EXAMPLE_JOB_MS that honours ctx.signal, then one transaction per job on `pgResource`: the result
 * row (keyed by the job, so a retried job writes it once) and the running totals.
 *
 *   node scripts/postgres.mjs &                                     # a throwaway PostgreSQL, as the tests use
 *   DATABASE_URL=postgres://postgres@127.0.0.1:PORT/postgres EXAMPLE_JOBS=50 QUIESCE_CONCURRENCY=4 \
 *     node packages/examples/dist/pg-worker/worker.js
 *
 * Ctrl-C while it works: the jobs in flight commit, the pool closes, then it exits 0. The pool
 * holds at most QUIESCE_CONCURRENCY connections (less with QUIESCE_DB_MAX_CONNECTIONS and
 * QUIESCE_MAX_REPLICAS), none once quiet for 10 s; GET :9464/metrics shows quiesce_pool_*.
 */
import { pgResource } from "@quiesce/adapters/pg";
import { createMemorySource, createWorker } from "@quiesce/sdk";
import pg from "pg";

interface ImageJob {
  readonly image: string;
  readonly width: number;
  readonly height: number;
}

const url = process.env.DATABASE_URL;
const jobs = Number(process.env.EXAMPLE_JOBS ?? 20);
const jobMs = Number(process.env.EXAMPLE_JOB_MS ?? 200);
if (!url) throw new Error("DATABASE_URL must be set (postgres://user@host:port/db); `node scripts/postgres.mjs` starts one");
if (!Number.isSafeInteger(jobs) || jobs < 0) throw new Error(`EXAMPLE_JOBS must be a non-negative integer, got ${process.env.EXAMPLE_JOBS}`);
if (!Number.isFinite(jobMs) || jobMs < 0) throw new Error(`EXAMPLE_JOB_MS must be a non-negative number, got ${process.env.EXAMPLE_JOB_MS}`);

// The schema, once, before the worker takes jobs (a migration step in a real deployment).
const setup = new pg.Client({ connectionString: url });
await setup.connect();
await setup.query(`
  create table if not exists image_results (
    job_id text primary key, image text not null, thumb_width int not null, thumb_height int not null,
    attempt int not null, done_at timestamptz not null default now());
  create table if not exists image_totals (id int primary key default 1, images int not null, pixels bigint not null);
  insert into image_totals values (1, 0, 0) on conflict do nothing;`);
await setup.end();

const source = createMemorySource({ retryDelayMs: 500 });
for (let n = 1; n <= jobs; n++) source.add({ image: `img-${n}.jpg`, width: 640 + n, height: 480 + n } satisfies ImageJob);

const db = pgResource({ name: "images", connection: { connectionString: url, application_name: "quiesce-pg-example" } });

const worker = createWorker({
  source,
  resources: { db },
  ...(process.env.QUIESCE_EXIT_WHEN_EMPTY === undefined && process.env.TERM_ON_EMPTY === undefined ? { exitWhenEmpty: true } : {}),
  async handler(job: ImageJob, ctx) {
    const thumb = await resize(job, ctx.signal);
    // ctx.resources.db runs on the job's signal: at the drain deadline the open transaction's
    // query is cancelled on the server and rolled back, and the delivery goes back to the queue.
    await ctx.resources.db.transaction(async (tx) => {
      const inserted = await tx.query(
        `insert into image_results (job_id, image, thumb_width, thumb_height, attempt) values ($1, $2, $3, $4, $5)
         on conflict (job_id) do nothing`,
        [ctx.id, job.image, thumb.width, thumb.height, ctx.attempt],
      );
      if (inserted.rowCount === 1) {
        await tx.query("update image_totals set images = images + 1, pixels = pixels + $1 where id = 1", [thumb.width * thumb.height]);
      }
    });
    return thumb;
  },
});

/** The pretend work: EXAMPLE_JOB_MS, stopped by the signal. */
function resize(job: ImageJob, signal: AbortSignal): Promise<{ width: number; height: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve({ width: Math.round(job.width / 4), height: Math.round(job.height / 4) }), jobMs);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    }, { once: true });
  });
}

worker.on("drain:finished", (report) => {
  console.log(`quiesce pg example: ${report.completed} completed, ${report.failed} failed, ${report.released} released; drain "${report.reason}" (${report.path})`);
});
await worker.run();
