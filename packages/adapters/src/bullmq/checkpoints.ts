import type { Job } from "bullmq";
import type { Redis } from "ioredis";

/**
 * Checkpoints in BullMQ live in the job's own hash, in its `progress` field, as
 * `{ "quiesceCheckpoint": "<the runtime's record>" }`: BullMQ reads that field with every job it
 * hands out (no extra round trip per job), leaves it alone through retries, stalled-job recovery
 * and a dead worker, removes it with the job, and shows it in its own tooling (`job.progress`,
 * dashboards). The producer's `data` is never touched. Handlers do not see the BullMQ job, so
 * nothing else in a quiesce worker writes progress.
 */
export const progressKey = "quiesceCheckpoint";

/** Written only while this token holds the job's lock, and only to a job that still exists. */
const saveScript = `
if redis.call("GET", KEYS[2]) ~= ARGV[1] then return 0 end
if redis.call("EXISTS", KEYS[1]) == 0 then return -1 end
redis.call("HSET", KEYS[1], "progress", ARGV[2])
return 1`;

/** The checkpoint a fetched job carries, if its progress holds one. */
export function checkpointOf(job: Job): string | undefined {
  const progress = job.progress as unknown;
  if (typeof progress !== "object" || progress === null) return undefined;
  const data = (progress as Record<string, unknown>)[progressKey];
  return typeof data === "string" ? data : undefined;
}

/** 1 stored, 0 the lock is not ours, -1 the job is gone. */
export async function saveCheckpoint(client: Redis, jobKey: string, token: string, data: string): Promise<number> {
  const progress = JSON.stringify({ [progressKey]: data });
  return Number(await client.eval(saveScript, 2, jobKey, `${jobKey}:lock`, token, progress));
}

/** Drop it from the job (a missing job is left missing: HDEL creates nothing). */
export async function dropCheckpoint(client: Redis, jobKey: string): Promise<void> {
  await client.hdel(jobKey, "progress");
}
