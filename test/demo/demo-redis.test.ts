// @servers none
// `pnpm demo -- --redis URL`: the show with a Node process per pod over BullMQ on a private Redis,
// real SIGTERM and SIGKILL. Its accounting comes from what the processes reported and from BullMQ.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { descendants, isAlive, processesMentioning } from "../harness/proc.js";
import { tcpExchange } from "../harness/probe.js";
import { startRedis, type RedisServer } from "../harness/redis.js";
import { spawnWorker, type WorkerExit } from "../harness/worker-process.js";

const MAIN = new URL("../../packages/examples/dist/demo/main.js", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "quiesce-demo-redis-"));

const FIELDS = [
  "jobs", "interrupted", "runAgainLate", "lost", "runTwice", "busyPodsDeleted", "busyPodsDeletedWithIdlePeer",
  "deletions", "latencyP50Ms", "latencyP99Ms", "scaleDownMs", "interruptedJobMs", "podWrites",
] as const;

// A short story: 4 pods, 4→1→4→2. With seed 3 three jobs of the plan run across the 4→1
// scale-down, so at least two of the three pods deleted there are busy, whichever they are.
const ARGS = ["--workers", "4", "--schedule", "1,4,2", "--seed", "3"];
const GRACE_MS = 2000;
// The demo's pods release work at the deadline: the grace period less 10 % of it.
const DEADLINE_MS = GRACE_MS - 200;

interface Side {
  readonly [field: string]: unknown;
  readonly jobs: number;
  readonly lost: number;
  readonly runTwice: number;
  readonly interrupted: number;
  readonly deletions: number;
  readonly interruptedJobMs: number[];
}

const redisInfo = async (redis: RedisServer, section: string): Promise<string> =>
  (await tcpExchange(redis.port, { send: `INFO ${section}\r\n` }))?.toString() ?? "";

describe("pnpm demo -- --redis URL", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("real pod processes: quiesce loses nothing and runs nothing twice, plain cuts jobs; nothing is left running", { timeout: 180_000 }, async () => {
    const svg = join(dir, "timeline.svg");
    const proc = spawnWorker(MAIN, { args: ["--redis", redis.url, "--json", "--svg", svg, ...ARGS], cwd: dir });
    // Every pod is a child process of the demo: watch them while it runs.
    const pods = new Set<number>();
    const watch = setInterval(() => {
      for (const p of descendants(proc.pid)) if (p.cmdline.includes("-worker.js")) pods.add(p.pid);
    }, 100);
    let exit: WorkerExit;
    try {
      exit = await proc.waitForExit(170_000);
    } finally {
      clearInterval(watch);
    }
    expect(exit.code, exit.stderr).toBe(0);
    const shown = JSON.parse(exit.stdout) as { seed: number; plain: Side; quiesce: Side };
    for (const side of [shown.plain, shown.quiesce]) for (const field of FIELDS) expect(side).toHaveProperty(field);
    const { plain, quiesce } = shown;
    console.log(`--redis: ${JSON.stringify(shown)}`);

    expect(shown.seed).toBe(3);
    expect(plain.jobs).toBe(quiesce.jobs);
    expect(plain.deletions).toBe(5); // 4→1 and 4→2
    expect(quiesce.deletions).toBe(5);
    expect(quiesce.lost).toBe(0);
    expect(quiesce.runTwice).toBe(0);
    // A job that could finish before the drain deadline was never handed back.
    expect(quiesce.interruptedJobMs.filter((ms) => ms < DEADLINE_MS)).toEqual([]);
    expect(plain.interrupted).toBeGreaterThanOrEqual(1);
    expect(plain.interruptedJobMs.length).toBe(plain.interrupted);
    // The quiesce pods wrote their annotations over HTTP (the plain ones write nothing).
    expect(quiesce.podWrites as number).toBeGreaterThan(0);
    expect(plain.podWrites).toBe(0);

    // Real processes: 4, then 3 more at the scale-up, in each run; none outlived the demo.
    expect(pods.size).toBe(2 * (4 + 3));
    expect([...pods].filter(isAlive)).toEqual([]);
    expect(processesMentioning(`quiesce-demo-${proc.pid}-`).map((p) => p.pid)).toEqual([]);
    // Nothing left connected to Redis (this probe is the one client) and the demo's queues are gone.
    await pollUntil(async () => /\r\nconnected_clients:1\r\n/.test(await redisInfo(redis, "clients")), { timeoutMs: 5000, message: "the demo's Redis connections closed" });
    expect(await redisInfo(redis, "keyspace")).not.toMatch(/^db0:keys=/m);

    const text = readFileSync(svg, "utf8");
    expect(text).toMatch(/^<\?xml/);
    expect(text).toContain("s of real time");
    expect((text.match(/<rect class="run /g) ?? []).length).toBeGreaterThanOrEqual(2 * quiesce.jobs);
  });

  it("--redis takes a redis:// URL, runs on the real clock, and says at once when no Redis answers", async () => {
    for (const [args, code, message] of [
      [["--redis", "127.0.0.1:6379"], 2, '--redis must be a URL like redis://127.0.0.1:6379, got "127.0.0.1:6379"'],
      [["--redis", "redis://127.0.0.1:6379", "--fast"], 2, "--speed and --fast do not go with --redis"],
      [["--redis", "redis://127.0.0.1:1", "--no-svg"], 1, "--redis redis://127.0.0.1:1: no Redis answered (connect ECONNREFUSED"],
    ] as const) {
      const exit = await spawnWorker(MAIN, { args: [...args], cwd: dir }).waitForExit(30_000);
      expect(exit.code).toBe(code);
      expect(exit.stderr).toContain(message);
    }
  });
});
