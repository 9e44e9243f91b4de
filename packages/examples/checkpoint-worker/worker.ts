/**
 * A long job in chunks with checkpoints: sum a large input (EXAMPLE_ROWS rows, read
 * EXAMPLE_CHUNK at a time), storing `{ offset, total }` after every chunk. Stop it mid-way
 * (Ctrl-C, `kill -TERM <pid>`) and start it again with the same queue: the job goes on from the
 * last chunk it stored, not from row 0. With REDIS_URL it runs on BullMQ, where the checkpoint
 * lives in the job's hash and survives the process (even a SIGKILL); without it, on an in-memory
 * queue, which shows the API but forgets everything when the process ends.
 *
 *   EXAMPLE_ROWS=2000000 node dist/checkpoint-worker/worker.js
 *   REDIS_URL=redis://127.0.0.1:6379 EXAMPLE_ENQUEUE=1 node dist/checkpoint-worker/worker.js   (adds one job, then works)
 */
import { createMemorySource, createWorker, type JobContext, type Source } from "@quiesce/sdk";

interface Input {
  readonly rows: number;
}
interface Progress {
  /** The next row to read. */
  readonly offset: number;
  readonly total: number;
}

const rows = Number(process.env.EXAMPLE_ROWS ?? 2_000_000);
const chunk = Number(process.env.EXAMPLE_CHUNK ?? 50_000);
if (!Number.isSafeInteger(rows) || rows < 1) throw new Error(`EXAMPLE_ROWS must be a positive integer, got ${process.env.EXAMPLE_ROWS}`);
if (!Number.isSafeInteger(chunk) || chunk < 1) throw new Error(`EXAMPLE_CHUNK must be a positive integer, got ${process.env.EXAMPLE_CHUNK}`);

/** Stands in for reading rows from a file, a table or an object store: slow on purpose. */
async function readChunk(offset: number, count: number, signal: AbortSignal): Promise<number[]> {
  await new Promise((resolve) => setTimeout(resolve, 100));
  signal.throwIfAborted();
  return Array.from({ length: count }, (_, i) => (offset + i) % 7);
}

async function sumRows(input: Input, ctx: JobContext): Promise<number> {
  // Resume where an earlier attempt stopped; a first run starts at row 0.
  const from = (ctx.lastCheckpoint as Progress | undefined) ?? { offset: 0, total: 0 };
  if (from.offset > 0) ctx.log.info({ offset: from.offset }, "resuming from checkpoint");
  let { offset, total } = from;
  while (offset < input.rows) {
    // Stop between chunks once the job must go (deadline, lost lease, or released after a checkpoint).
    if (ctx.signal.aborted) return total;
    const values = await readChunk(offset, Math.min(chunk, input.rows - offset), ctx.signal);
    for (const v of values) total += v;
    offset += values.length;
    // One write per chunk: seconds of work, one Redis round trip. A chunk in progress when the
    // worker dies runs again on the next worker: make a step safe to repeat.
    await ctx.checkpoint({ offset, total } satisfies Progress);
  }
  return total;
}

async function source(): Promise<Source> {
  const url = process.env.REDIS_URL;
  if (!url) {
    const memory = createMemorySource();
    memory.add({ rows } satisfies Input);
    return memory;
  }
  const { hostname, port } = new URL(url);
  const connection = { host: hostname, port: Number(port || 6379) };
  if (process.env.EXAMPLE_ENQUEUE) {
    const { Queue } = await import("bullmq");
    const queue = new Queue("checkpoint-example", { connection });
    await queue.add("sum", { rows } satisfies Input, { attempts: 3 });
    await queue.close();
  }
  const { createBullmqSource } = await import("@quiesce/adapters/bullmq");
  return createBullmqSource({ queue: "checkpoint-example", connection });
}

const worker = createWorker<Input>({
  source: await source(),
  handler: sumRows,
  // The memory demo ends by itself once its one job is done.
  ...(process.env.REDIS_URL ? {} : { exitWhenEmpty: true }),
});
worker.on("job:completed", ({ id, durationMs }) => console.log(`job ${id} done in ${durationMs} ms`));
await worker.run();
