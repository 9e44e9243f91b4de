// @servers none
// Real worker processes (the built @quiesce/sdk) against the fake API server: the deadline a pod
// really has on SIGTERM, and the annotations as a cluster would see them.
import { fileURLToPath } from "node:url";
import { describe, expect, it, type TestContext } from "vitest";
import { KubeApiFake } from "../harness/k8s-fake.js";
import { pollUntil } from "../harness/poll-until.js";
import { uniqueName } from "../harness/unique.js";
import { spawnWorker, type WorkerProcess } from "../harness/worker-process.js";

const fixture = fileURLToPath(new URL("../fixtures/kubernetes/worker.mjs", import.meta.url));
const NS = "jobs";

interface Line {
  event: string;
  t: number;
  now: number;
  [key: string]: unknown;
}

const linesOf = (stdout: string): Line[] =>
  stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Line);

async function setup(onTestFinished: TestContext["onTestFinished"], pod: { terminationGracePeriodSeconds?: number } = {}) {
  const fake = await KubeApiFake.start();
  onTestFinished(() => fake.close());
  const name = uniqueName("w");
  fake.addPod({ namespace: NS, name, ...pod });
  const start = (env: Record<string, string>): WorkerProcess =>
    spawnWorker(fixture, {
      env: {
        POD_NAME: name,
        POD_NAMESPACE: NS,
        KUBECONFIG: fake.writeKubeconfig(),
        // A CI runner inside a pod must not make the child pick the in-cluster config.
        KUBERNETES_SERVICE_HOST: undefined,
        QUIESCE_LOG_LEVEL: "info",
        ...env,
      },
    });
  return { fake, name, start };
}

describe.concurrent("SIGTERM in a pod", () => {
  it("deletionTimestamp 3 s away, a 10 s job: the job is released before 3 s, exit 143", async ({ onTestFinished }) => {
    const { fake, name, start } = await setup(onTestFinished, { terminationGracePeriodSeconds: 30 });
    const proc = start({ FIXTURE_JOBS: "1", FIXTURE_JOB_MS: "10000", QUIESCE_SAFETY_MARGIN_MS: "1000" });
    await proc.waitForLine(/"event":"job-started"/, { stream: "stdout", timeoutMs: 15_000 });
    // As a DELETE does: the timestamp first, then the kubelet's SIGTERM.
    fake.setDeletionTimestamp(NS, name, Date.now() + 3000);
    const killAt = Date.parse(fake.pod(NS, name).metadata.deletionTimestamp!);
    const sentAt = Date.now();
    proc.signal("SIGTERM");
    const exit = await proc.waitForExit(15_000);
    const lines = linesOf(exit.stdout);
    const released = lines.find((l) => l.event === "job-released");
    const exited = lines.find((l) => l.event === "exit");
    expect(exit.code).toBe(143);
    expect(released).toMatchObject({ reason: "deadline", started: true });
    expect(released!.now - sentAt).toBeLessThan(3000);
    expect(released!.now).toBeLessThan(killAt);
    expect(exited!.now).toBeLessThan(killAt);
    expect(exit.stderr).toContain("drain deadline moved earlier (pod deletion)");
    console.log(`deletionTimestamp ${killAt - sentAt} ms after SIGTERM: released at +${released!.now - sentAt} ms, exit at +${exited!.now - sentAt} ms`);
  }, 30_000);

  it("with the spec's grace period only (no deletionTimestamp), the spec is the deadline, not QUIESCE_GRACE_SECONDS", async ({ onTestFinished }) => {
    const { start } = await setup(onTestFinished, { terminationGracePeriodSeconds: 4 });
    const proc = start({ FIXTURE_JOBS: "1", FIXTURE_JOB_MS: "10000", QUIESCE_SAFETY_MARGIN_MS: "1000", QUIESCE_GRACE_SECONDS: "30" });
    await proc.waitForLine(/"event":"job-started"/, { stream: "stdout", timeoutMs: 15_000 });
    const sentAt = Date.now();
    proc.signal("SIGTERM");
    const exit = await proc.waitForExit(15_000);
    const lines = linesOf(exit.stdout);
    const drain = lines.find((l) => l.event === "drain-started");
    const released = lines.find((l) => l.event === "job-released");
    expect(exit.code).toBe(143);
    // 4 s spec − 1 s margin, from when the drain started (QUIESCE_GRACE_SECONDS would give 29 s).
    expect((drain!.deadline as number) - drain!.now).toBeGreaterThan(2900);
    expect((drain!.deadline as number) - drain!.now).toBeLessThanOrEqual(3000);
    expect(released!.now - sentAt).toBeGreaterThan(2500);
    expect(released!.now - sentAt).toBeLessThan(4500);
  }, 30_000);

  it("annotates the pod from the real worker: busy while a long job runs, idle after, draining on SIGTERM", async ({ onTestFinished }) => {
    const { fake, name, start } = await setup(onTestFinished);
    const proc = start({ FIXTURE_JOBS: "1", FIXTURE_JOB_MS: "2500", QUIESCE_BUSY_AFTER_MS: "500" });
    const state = () => fake.annotations(NS, name)["quiesce.dev/state"];
    await pollUntil(() => state() === "busy", { message: "busy", timeoutMs: 10_000 });
    expect(fake.annotations(NS, name)).toMatchObject({ "controller.kubernetes.io/pod-deletion-cost": "1", "karpenter.sh/do-not-disrupt": "true" });
    await proc.waitForLine(/"event":"job-finished"/, { stream: "stdout", timeoutMs: 10_000 });
    await pollUntil(() => state() === "idle", { message: "idle", timeoutMs: 3000 });
    expect(fake.annotations(NS, name)).not.toHaveProperty("controller.kubernetes.io/pod-deletion-cost");
    proc.signal("SIGTERM");
    const exit = await proc.waitForExit(10_000);
    expect(exit.code).toBe(0);
    expect(state()).toBe("draining");
    expect(fake.patches().every((p) => p.contentType === "application/merge-patch+json")).toBe(true);
  }, 30_000);

  it("a hung API server delays neither the jobs nor the drain", async ({ onTestFinished }) => {
    const { fake, start } = await setup(onTestFinished);
    fake.fault({ hang: true });
    const proc = start({ FIXTURE_JOBS: "3", FIXTURE_JOB_MS: "200", QUIESCE_BUSY_AFTER_MS: "0" });
    await proc.waitForLine(/"event":"ready"/, { stream: "stdout", timeoutMs: 15_000 });
    await proc.waitForLine(/"event":"job-finished".*"n":2/, { stream: "stdout", timeoutMs: 5000 });
    const sentAt = Date.now();
    proc.signal("SIGTERM");
    const exit = await proc.waitForExit(10_000);
    const took = Date.now() - sentAt;
    const lines = linesOf(exit.stdout);
    const jobs = lines.filter((l) => l.event === "job-started").map((s) => lines.find((f) => f.event === "job-finished" && f.id === s.id)!.now - s.now);
    expect(exit.code).toBe(0);
    expect(Math.max(...jobs)).toBeLessThan(400);
    expect(took).toBeLessThan(1500);
    console.log(`hung API server: jobs took ${jobs.join(", ")} ms, SIGTERM → exit ${took} ms`);
  }, 30_000);
});
