// @servers redis
// The redis triggers of scaledobject-bullmq.yaml and scaledjob.yaml, read from the manifests and
// evaluated against a real Redis holding real BullMQ jobs (plain, prioritized, delayed, active) the
// way KEDA evaluates them: a trigger's value is the key's length by its Redis type (LLEN for a
// list, ZCARD for a sorted set, 0 for a missing key); a ScaledObject wakes from zero when any
// trigger exceeds its activation value and then asks for the largest ceil(value / target); a
// ScaledJob with multipleScalersCalculation sum asks for ceil(Σ value / target) over its active
// triggers. The Prometheus triggers need running pods and play no part at zero.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createBullmqSource } from "@quiesce/adapters/bullmq";
import { createWorker } from "@quiesce/sdk";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { pollUntil } from "../harness/poll-until.js";
import { servers } from "../harness/servers.js";
import { uniqueName } from "../harness/unique.js";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed YAML
const dir = fileURLToPath(new URL("../../packages/examples/kubernetes/", import.meta.url));
const objects = (file: string): Obj[] => parseAllDocuments(readFileSync(`${dir}${file}`, "utf8")).map((d) => d.toJS() as Obj);
const scaledObject = objects("scaledobject-bullmq.yaml").find((o) => o.kind === "ScaledObject")!;
const scaledJob = (name: string): Obj => objects("scaledjob.yaml").find((o) => o.kind === "ScaledJob" && o.metadata.name === name)!;

interface RedisTrigger {
  readonly key: string;
  readonly target: number;
  readonly activation: number;
}
const redisTriggers = (o: Obj): RedisTrigger[] =>
  (o.spec.triggers as Obj[])
    .filter((t) => t.type === "redis")
    .map((t) => ({ key: String(t.metadata.listName), target: Number(t.metadata.listLength), activation: Number(t.metadata.activationListLength ?? 0) }));

/** The manifests name the queue `emails` under BullMQ's default prefix. */
const EXAMPLE_PREFIX = "bull:emails:";

describe("KEDA redis triggers of the BullMQ examples, on real BullMQ jobs", () => {
  const { port } = servers().redis;
  const name = uniqueName("keda");
  let redis: Redis;
  let queue: Queue;

  /** What KEDA's redis trigger reads for a key of the manifests, moved to this test's queue. */
  async function read(t: RedisTrigger): Promise<number> {
    expect(t.key.startsWith(EXAMPLE_PREFIX), t.key).toBe(true);
    const key = `bull:${name}:${t.key.slice(EXAMPLE_PREFIX.length)}`;
    const type = await redis.type(key);
    if (type === "zset") return redis.zcard(key);
    if (type === "list" || type === "none") return redis.llen(key);
    throw new Error(`${key} is a ${type}: KEDA would count it with another command than BullMQ expects`);
  }
  /** ScaledObject: awake (any trigger above activation) and the replicas the HPA asks for. */
  async function scaledObjectAsks(o: Obj): Promise<{ active: boolean; replicas: number }> {
    const values = await Promise.all(redisTriggers(o).map(async (t) => ({ t, v: await read(t) })));
    return { active: values.some(({ t, v }) => v > t.activation), replicas: Math.max(0, ...values.map(({ t, v }) => Math.ceil(v / t.target))) };
  }
  /** ScaledJob, multipleScalersCalculation sum: the Jobs KEDA's scaling strategy starts from. */
  async function scaledJobAsks(o: Obj): Promise<number> {
    expect(o.spec.scalingStrategy.multipleScalersCalculation).toBe("sum");
    let sum = 0;
    for (const t of redisTriggers(o)) {
      const v = await read(t);
      if (v > t.activation) sum += v / t.target;
    }
    return Math.ceil(Math.min(sum, o.spec.maxReplicaCount as number));
  }

  beforeAll(() => {
    redis = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: null });
    queue = new Queue(name, { connection: redis });
  });
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
  });

  it("the manifests count wait, prioritized, delayed and active (ScaledObject) and wait, prioritized, delayed (one-message ScaledJob)", () => {
    const keys = (o: Obj) => redisTriggers(o).map((t) => t.key.slice(EXAMPLE_PREFIX.length));
    expect(keys(scaledObject)).toEqual(["wait", "prioritized", "delayed", "active"]);
    expect(keys(scaledJob("quiesce-one-message"))).toEqual(["wait", "prioritized", "delayed"]);
    expect(keys(scaledJob("quiesce-drain-until-empty"))).toEqual(["wait", "prioritized"]);
  });

  it("a backlog of prioritized jobs: the wait list is empty, yet the ScaledObject wakes and the ScaledJobs start Jobs", async () => {
    await queue.addBulk(Array.from({ length: 30 }, (_, n) => ({ name: "p", data: { n }, opts: { priority: 1 + (n % 3) } })));
    const wait = redisTriggers(scaledObject).find((t) => t.key.endsWith(":wait"))!;
    expect(await read(wait)).toBe(0); // a trigger on wait alone: asleep with 30 jobs queued
    expect(await queue.getPrioritizedCount()).toBe(30);
    expect(await scaledObjectAsks(scaledObject)).toEqual({ active: true, replicas: 2 }); // ceil(30 / 20)
    expect(await scaledJobAsks(scaledJob("quiesce-one-message"))).toBe(20); // one a job, capped at maxReplicaCount
    expect(await scaledJobAsks(scaledJob("quiesce-drain-until-empty"))).toBe(1); // ceil(30 / 50)
    // Plain jobs add to it (a ScaledJob sums; a ScaledObject takes the larger).
    await queue.addBulk(Array.from({ length: 25 }, (_, n) => ({ name: "w", data: { n } })));
    expect(await scaledObjectAsks(scaledObject)).toEqual({ active: true, replicas: 2 });
    expect(await scaledJobAsks(scaledJob("quiesce-drain-until-empty"))).toBe(2); // ceil(55 / 50)
    await queue.drain();
    expect(await scaledObjectAsks(scaledObject)).toEqual({ active: false, replicas: 0 });
  });

  it("delayed jobs: with no worker nothing moves a due job out of delayed, so the delayed trigger keeps one pod (one Job), then a worker runs them", async () => {
    const delayMs = 300;
    const addedAt = Date.now();
    await queue.addBulk(Array.from({ length: 3 }, (_, n) => ({ name: "d", data: { n }, opts: { delay: delayMs } })));
    await pollUntil(() => Date.now() > addedAt + delayMs + 200, { timeoutMs: 5_000, message: "the delay has passed" });
    // Due, but still delayed: promotion happens in a worker's fetch, and none runs.
    expect(await queue.getJobCounts("wait", "prioritized", "delayed")).toEqual({ wait: 0, prioritized: 0, delayed: 3 });
    expect(await scaledObjectAsks(scaledObject)).toEqual({ active: true, replicas: 1 });
    expect(await scaledJobAsks(scaledJob("quiesce-one-message"))).toBe(1);
    expect(await scaledJobAsks(scaledJob("quiesce-drain-until-empty"))).toBe(0); // documented: not counted there

    // The one pod the trigger keeps: a quiesce worker, which promotes and runs them.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const worker = createWorker({
      source: createBullmqSource({ queue: name, connection: { host: "127.0.0.1", port } }),
      handler: () => held,
      concurrency: 3,
      http: false,
      handleSignals: false,
      kubernetes: false,
    });
    try {
      await worker.start();
      // While they run they sit in the active list, which the ScaledObject counts (one pod per 4).
      await pollUntil(async () => (await queue.getActiveCount()) === 3, { timeoutMs: 10_000, message: "3 delayed jobs taken" });
      expect(await queue.getDelayedCount()).toBe(0);
      expect(await scaledObjectAsks(scaledObject)).toEqual({ active: true, replicas: 1 });
      release();
      await pollUntil(async () => (await queue.getCompletedCount()) === 3, { timeoutMs: 10_000, message: "3 delayed jobs completed" });
    } finally {
      release();
      await worker.drain("test");
    }
    expect(await scaledObjectAsks(scaledObject)).toEqual({ active: false, replicas: 0 });
  });

  it("jobs in flight keep a pod per QUIESCE_CONCURRENCY through the active list, whatever Prometheus sees", async () => {
    const active = redisTriggers(scaledObject).find((t) => t.key.endsWith(":active"))!;
    const deployment = objects("deployment.yaml").find((o) => o.kind === "Deployment")!;
    const concurrency = (deployment.spec.template.spec.containers[0].env as Obj[]).find((e) => e.name === "QUIESCE_CONCURRENCY")!.value;
    expect(active.target).toBe(Number(concurrency));
  });
});
