/**
 * The demo worker: an in-memory queue of EXAMPLE_JOBS jobs of EXAMPLE_JOB_MS each, run by quiesce.
 * Try it: start it, then press Ctrl-C (or `kill -TERM <pid>`, or `curl -X POST localhost:9464/drain`)
 * while jobs run, and watch it finish them before exiting. Every QUIESCE_* variable applies.
 *
 *   EXAMPLE_JOBS=20 EXAMPLE_JOB_MS=500 QUIESCE_CONCURRENCY=4 node dist/memory-worker/worker.js
 */
import { createMemorySource, createWorker, type DrainReport } from "@quiesce/sdk";

const jobs = Number(process.env.EXAMPLE_JOBS ?? 20);
const jobMs = Number(process.env.EXAMPLE_JOB_MS ?? 500);
if (!Number.isSafeInteger(jobs) || jobs < 0) throw new Error(`EXAMPLE_JOBS must be a non-negative integer, got ${process.env.EXAMPLE_JOBS}`);
if (!Number.isFinite(jobMs) || jobMs < 0) throw new Error(`EXAMPLE_JOB_MS must be a non-negative number, got ${process.env.EXAMPLE_JOB_MS}`);

const source = createMemorySource();
for (let n = 1; n <= jobs; n++) source.add({ n });

const worker = createWorker<{ n: number }>({
  source,
  // Exit once the queue is empty unless told otherwise, so the demo ends by itself.
  ...(process.env.QUIESCE_EXIT_WHEN_EMPTY === undefined && process.env.TERM_ON_EMPTY === undefined ? { exitWhenEmpty: true } : {}),
  async handler({ n }, ctx) {
    // A job that honours ctx.signal stops at the drain deadline; ctx.draining says a drain began.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, jobMs);
      ctx.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(ctx.signal.reason as Error);
      });
    });
    return n * n;
  },
  exit: (code) => {
    printSummary(report, code);
    process.exit(code);
  },
});

let report: DrainReport | undefined;
worker.on("drain:finished", (r) => (report = r));

function printSummary(r: DrainReport | undefined, code: number): void {
  const left = source.snapshot();
  console.log(
    r
      ? `quiesce demo: ${r.completed} completed, ${r.failed} failed, ${r.released} released, ${left.waiting} still queued; ` +
          `drain "${r.reason}" (${r.path}) in ${r.durationMs} ms; exit ${code}`
      : `quiesce demo: exit ${code}`,
  );
}

await worker.run();
