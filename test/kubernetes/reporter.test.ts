// @servers none
// The pod integration with the real @kubernetes/client-node against a fake API server.
import { describe, expect, it, type TestContext } from "vitest";
import { KubeApiFake } from "../harness/k8s-fake.js";
import { pollUntil } from "../harness/poll-until.js";
import { uniqueName } from "../harness/unique.js";
import { PodDriver, type DriverOptions } from "./pod-driver.js";

const NS = "jobs";
const STATE = "quiesce.dev/state";
const COST = "controller.kubernetes.io/pod-deletion-cost";
const SAFE = "cluster-autoscaler.kubernetes.io/safe-to-evict";
const KARPENTER = "karpenter.sh/do-not-disrupt";

/**
 * A fake API server and a pod of its own per test, so the (mostly waiting) tests run concurrently.
 * `driver()` builds a worker-like driver against it; everything is closed when the test ends
 * (the test's own onTestFinished: the global one cannot tell concurrent tests apart).
 */
async function setup(onTestFinished: TestContext["onTestFinished"]) {
  const fake = await KubeApiFake.start();
  const pod = uniqueName("w");
  const drivers: PodDriver[] = [];
  onTestFinished(async () => {
    await Promise.all(drivers.map((d) => d.integration.stop()));
    await fake.close();
  });
  const driver = (options: Partial<DriverOptions> = {}): PodDriver => {
    const d = new PodDriver({ podName: pod, namespace: NS, kubeconfig: fake.writeKubeconfig(), ...options });
    drivers.push(d);
    return d;
  };
  return { fake, pod, driver };
}

const annotationsOf = (body: unknown) => (body as { metadata: { annotations: Record<string, string | null> } }).metadata.annotations;

describe.concurrent("pod annotations", () => {
  it("merge-patches the initial idle state and reads the grace period (content type, body, token)", async ({ onTestFinished }) => {
    const { fake, pod, driver } = await setup(onTestFinished);
    fake.addPod({ namespace: NS, name: pod, terminationGracePeriodSeconds: 45, annotations: { [SAFE]: "false", other: "kept" } });
    const d = driver();
    await d.integration.start();
    expect(d.integration.specGraceMs).toBe(45_000);
    await pollUntil(() => fake.patches().length === 1, { message: "the idle patch" });
    const [patch] = fake.patches();
    expect(patch).toMatchObject({
      path: `/api/v1/namespaces/${NS}/pods/${pod}`,
      contentType: "application/merge-patch+json",
      authorization: "Bearer fake-token",
      status: 200,
    });
    expect(Object.keys(patch!.body as object)).toEqual(["metadata"]);
    // Only what differs: removals only for keys the pod carries.
    expect(annotationsOf(patch!.body)).toEqual({ [STATE]: "idle", [SAFE]: null });
    expect(fake.annotations(NS, pod)).toEqual({ [STATE]: "idle", other: "kept" });
    await pollUntil(() => d.integration.podWrites().ok === 1, { message: "the write counted" });
    expect(d.integration.podWrites()).toEqual({ ok: 1, failed: 0 });
  });

  it("writes nothing at start when the pod already says idle", async ({ onTestFinished }) => {
    const { fake, pod, driver } = await setup(onTestFinished);
    fake.addPod({ namespace: NS, name: pod, annotations: { [STATE]: "idle" } });
    const d = driver();
    await d.integration.start();
    d.set("idle");
    await new Promise((r) => setTimeout(r, 1500));
    expect(fake.patches()).toHaveLength(0);
  });

  it("10 s busy with 50 ms jobs: busy written once (after busyAfterMs), idle once (after a short quiet spell)", async ({ onTestFinished }) => {
    const { fake, pod, driver } = await setup(onTestFinished);
    fake.addPod({ namespace: NS, name: pod, annotations: { [STATE]: "idle" } });
    const d = driver({ busyAfterMs: 2000 });
    await d.integration.start();
    d.set("idle");
    const started = Date.now();
    const run = await d.runJobs(10_000, 50);
    const ended = Date.now();
    await pollUntil(() => fake.annotations(NS, pod)[STATE] === "idle" && fake.patches().length >= 2, { message: "idle written", timeoutMs: 5000 }).catch((e: unknown) => {
      console.log(JSON.stringify(fake.patches().map((p) => ({ at: p.at - started, status: p.status, body: p.body }))), ended - started);
      throw e;
    });
    await new Promise((r) => setTimeout(r, 1200)); // nothing else may follow
    const patches = fake.patches();
    expect(patches.map((p) => annotationsOf(p.body)[STATE])).toEqual(["busy", "idle"]);
    expect(annotationsOf(patches[0]!.body)).toEqual({ [STATE]: "busy", [COST]: "1", [SAFE]: "false", [KARPENTER]: "true" });
    const busyAfter = patches[0]!.at - started;
    const idleAfter = patches[1]!.at - ended;
    expect(busyAfter).toBeGreaterThanOrEqual(2000);
    expect(busyAfter).toBeLessThan(2600);
    // The quiet spell is 200 ms (it was 400), and the idle mark no longer waits for the write
    // spacing: the quiet spell and one round trip (it was up to 1 s).
    expect(idleAfter).toBeGreaterThanOrEqual(150);
    expect(idleAfter).toBeLessThan(700);
    expect(run.jobs).toBeGreaterThan(150);
    // What a job paid for the reporter: listener time per flip.
    expect(d.listenerMs / (2 * run.jobs)).toBeLessThan(0.5);
    console.log(`10 s run: ${run.jobs} jobs, 2 writes (busy at +${busyAfter} ms, idle ${idleAfter} ms after the last job), listener ${(1000 * d.listenerMs / (2 * run.jobs)).toFixed(1)} µs/flip, worst job overrun ${run.worstOverrunMs.toFixed(1)} ms`);
  }, 30_000);

  it("a flapping worker stays under the rate limit (≥ 1 s between busy writes, each idle write after one) and ends idle", async ({ onTestFinished }) => {
    const { fake, pod, driver } = await setup(onTestFinished);
    fake.addPod({ namespace: NS, name: pod, annotations: { [STATE]: "idle" } });
    const d = driver({ busyAfterMs: 0 });
    await d.integration.start();
    d.set("idle");
    // Jobs of 30 ms with 450 ms gaps: each gap ends the spell (quiet 200 ms), each job is a new one.
    const run = await d.runJobs(6000, 30, 450);
    await pollUntil(() => fake.annotations(NS, pod)[STATE] === "idle", { message: "idle at the end", timeoutMs: 5000 });
    const writes = fake.patches().map((p) => ({ at: p.at, state: annotationsOf(p.body)[STATE] }));
    const busyAt = writes.filter((w) => w.state === "busy").map((w) => w.at);
    const busyGaps = busyAt.slice(1).map((t, i) => t - busyAt[i]!);
    expect(run.jobs).toBeGreaterThanOrEqual(11);
    // The idle mark skips the spacing (a scale-down needs it most) and starts none; busy marks keep
    // theirs. So: busy and idle alternate, busy writes ≥ 1 s apart, at most 2 writes a second.
    expect(writes.map((w) => w.state)).toEqual(writes.map((_, i) => (i % 2 === 0 ? "busy" : "idle")));
    expect(Math.min(...busyGaps)).toBeGreaterThanOrEqual(1000);
    expect(writes.length).toBeLessThanOrEqual(2 * (Math.ceil(6000 / 1000) + 1));
    console.log(`flapping: ${run.jobs} busy spells → ${writes.length} writes, min gap between busy writes ${Math.min(...busyGaps)} ms`);
  }, 20_000);

  it("the deletion cost grows in coarse steps while a long spell lasts", async ({ onTestFinished }) => {
    const { fake, pod, driver } = await setup(onTestFinished);
    fake.addPod({ namespace: NS, name: pod, annotations: { [STATE]: "idle" } });
    // A 200 ms cost step stands in for the production minute.
    const d = driver({ busyAfterMs: 0, tuning: { costStepMs: 200 } });
    await d.integration.start();
    d.set("busy");
    await pollUntil(() => fake.annotations(NS, pod)[COST] === "16", { message: "cost 16", timeoutMs: 8000 });
    const costs = fake.patches().map((p) => annotationsOf(p.body)[COST]).filter((c) => c !== undefined);
    // Written at most once a second: intermediate values are skipped, never more writes than doublings.
    expect(costs.length).toBeLessThanOrEqual(5);
    expect(costs.map(Number)).toEqual([...costs.map(Number)].sort((a, b) => a - b));
  }, 15_000);
});

describe.concurrent("API errors: the reporter gives up or backs off, the worker carries on", () => {
  it("403 on PATCH: one warning, reporter off, no further writes, jobs unaffected", async ({ onTestFinished }) => {
    const { fake, pod, driver } = await setup(onTestFinished);
    fake.addPod({ namespace: NS, name: pod, annotations: { [STATE]: "idle" } });
    fake.fault({ status: 403, message: `pods "${pod}" is forbidden: User "system:serviceaccount:${NS}:default" cannot patch resource "pods"` }, { methods: ["PATCH"] });
    const d = driver({ busyAfterMs: 0 });
    await d.integration.start();
    const run = await d.runJobs(3000, 20, 500);
    expect(fake.patches()).toHaveLength(1);
    expect(d.warnings()).toHaveLength(1);
    expect(d.warnings()[0]!.message).toMatch(/pod annotations off/);
    expect(JSON.stringify(d.warnings()[0]!.fields)).toContain("403");
    expect(d.integration.podWrites()).toEqual({ ok: 0, failed: 1 });
    // A blocked job path would show up as seconds here; the margin is for a loaded CI machine.
    expect(run.worstOverrunMs).toBeLessThan(250);
    expect(d.maxListenerMs).toBeLessThan(20);
  }, 15_000);

  it("403 on GET at start: one warning, everything off, no PATCH ever", async ({ onTestFinished }) => {
    const { fake, pod, driver } = await setup(onTestFinished);
    fake.addPod({ namespace: NS, name: pod });
    fake.fault({ status: 403 });
    const d = driver({ busyAfterMs: 0 });
    await d.integration.start();
    await d.runJobs(1500, 20, 300);
    expect(fake.patches()).toHaveLength(0);
    expect(d.warnings()).toHaveLength(1);
    expect(d.warnings()[0]!.message).toMatch(/Kubernetes integration off/);
    expect(await d.integration.deletionDeadline(AbortSignal.timeout(1000))).toBeUndefined();
  });

  it("client-node not installed: one warning saying how to install it, no API call", async ({ onTestFinished }) => {
    const { fake, pod, driver } = await setup(onTestFinished);
    fake.addPod({ namespace: NS, name: pod });
    const missing = Object.assign(new Error("Cannot find package '@kubernetes/client-node' imported from /app/dist/kubernetes/load-client.js"), { code: "ERR_MODULE_NOT_FOUND" });
    const { loadClientNode } = await import("../../packages/sdk/src/kubernetes/load-client.js");
    const d = driver({ tuning: { loadClient: () => loadClientNode(() => Promise.reject(missing)) } });
    await d.integration.start();
    await d.runJobs(300, 20, 50);
    expect(d.warnings()).toHaveLength(1);
    expect(d.warnings()[0]!.message).toContain("install @kubernetes/client-node");
    expect(fake.requests).toHaveLength(0);
    expect(await d.integration.deletionDeadline(AbortSignal.timeout(500))).toBeUndefined();
  });

  it("a wrong token (401) and a missing pod (404) each turn it off with one warning", async ({ onTestFinished }) => {
    const { fake, pod } = await setup(onTestFinished);
    fake.addPod({ namespace: NS, name: pod });
    const denied = new PodDriver({ podName: pod, namespace: NS, kubeconfig: fake.writeKubeconfig({ token: "stale" }) });
    const missing = new PodDriver({ podName: `${pod}-gone`, namespace: NS, kubeconfig: fake.writeKubeconfig() });
    onTestFinished(() => Promise.all([denied.integration.stop(), missing.integration.stop()]).then(() => undefined));
    await Promise.all([denied.integration.start(), missing.integration.start()]);
    for (const d of [denied, missing]) {
      expect(d.warnings()).toHaveLength(1);
      expect(d.warnings()[0]!.message).toMatch(/Kubernetes integration off/);
    }
    expect(JSON.stringify(denied.warnings()[0]!.fields)).toContain("401");
    expect(JSON.stringify(missing.warnings()[0]!.fields)).toContain("404");
  });

  it("429: the next write waits for Retry-After", async ({ onTestFinished }) => {
    const { fake, pod, driver } = await setup(onTestFinished);
    fake.addPod({ namespace: NS, name: pod });
    fake.fault({ status: 429, retryAfter: "2" }, { methods: ["PATCH"], times: 1 });
    const d = driver();
    await d.integration.start();
    await pollUntil(() => d.integration.podWrites().ok === 1, { message: "the retried patch", timeoutMs: 6000 });
    const [first, second] = fake.patches();
    expect(first!.status).toBe(429);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(2000);
    expect(second!.at - first!.at).toBeLessThan(3000);
    expect(d.integration.podWrites()).toEqual({ ok: 1, failed: 1 });
  }, 10_000);

  it("5xx and dropped connections: backoff, one warning for the outage, recovery", async ({ onTestFinished }) => {
    const { fake, pod, driver } = await setup(onTestFinished);
    fake.addPod({ namespace: NS, name: pod });
    fake.fault({ status: 500 }, { methods: ["PATCH"], times: 2 });
    fake.fault({ reset: true }, { methods: ["PATCH"], times: 1 });
    const d = driver();
    await d.integration.start();
    await pollUntil(() => fake.annotations(NS, pod)[STATE] === "idle", { message: "written after the outage", timeoutMs: 15_000 });
    // The fake applies the patch before the client has read the answer: wait for the count too.
    await pollUntil(() => d.integration.podWrites().ok === 1, { message: "the write counted", timeoutMs: 2000 });
    expect(d.integration.podWrites()).toEqual({ ok: 1, failed: 3 });
    expect(d.warnings()).toHaveLength(1);
    expect(d.logger.lines.some((l) => l.level === "info" && /reachable again/.test(l.message))).toBe(true);
    const at = fake.patches().map((p) => p.at);
    expect(at[3]! - at[2]!).toBeGreaterThan(at[1]! - at[0]!); // the waits grow
  }, 20_000);

  it("a hung API server: start is bounded, jobs are unaffected, deletionDeadline is bounded and prompt on abort", async ({ onTestFinished }) => {
    const { fake, pod, driver } = await setup(onTestFinished);
    fake.addPod({ namespace: NS, name: pod });
    fake.fault({ hang: true });
    const d = driver({ busyAfterMs: 0 });
    let t0 = performance.now();
    await d.integration.start();
    const startMs = performance.now() - t0;
    expect(startMs).toBeLessThan(2500); // ~0.7 s import + 1.5 s read bound
    const run = await d.runJobs(2000, 20, 100);
    expect(run.worstOverrunMs).toBeLessThan(250);
    expect(d.maxListenerMs).toBeLessThan(20);
    t0 = performance.now();
    expect(await d.integration.deletionDeadline(new AbortController().signal)).toBeUndefined();
    const boundedMs = performance.now() - t0;
    expect(boundedMs).toBeLessThan(1300);
    t0 = performance.now();
    expect(await d.integration.deletionDeadline(AbortSignal.timeout(100))).toBeUndefined();
    const abortedMs = performance.now() - t0;
    expect(abortedMs).toBeLessThan(300);
    t0 = performance.now();
    await d.integration.stop();
    expect(performance.now() - t0).toBeLessThan(400); // the 250 ms a write in flight gets
    console.log(`hung API server: start ${startMs.toFixed(0)} ms, deletionDeadline ${boundedMs.toFixed(0)} ms (bound), ${abortedMs.toFixed(0)} ms (abort at 100 ms)`);
  }, 15_000);
});

describe.concurrent("deadline discovery", () => {
  it("deletionDeadline reads metadata.deletionTimestamp (RFC 3339) from a fresh GET", async ({ onTestFinished }) => {
    const { fake, pod, driver } = await setup(onTestFinished);
    fake.addPod({ namespace: NS, name: pod, terminationGracePeriodSeconds: 30 });
    const d = driver();
    await d.integration.start();
    expect(await d.integration.deletionDeadline(AbortSignal.timeout(2000))).toBeUndefined();
    fake.setDeletionTimestamp(NS, pod, "2030-01-02T03:04:05Z");
    expect(await d.integration.deletionDeadline(AbortSignal.timeout(2000))).toBe(Date.UTC(2030, 0, 2, 3, 4, 5));
    fake.setDeletionTimestamp(NS, pod, "2030-01-02T05:04:05.5+02:00");
    expect(await d.integration.deletionDeadline(AbortSignal.timeout(2000))).toBe(Date.UTC(2030, 0, 2, 3, 4, 5, 500));
  });

  it("warns once when the spec's grace period is shorter than p99 + margin", async ({ onTestFinished }) => {
    const { fake, pod, driver } = await setup(onTestFinished);
    fake.addPod({ namespace: NS, name: pod, terminationGracePeriodSeconds: 5, annotations: { [STATE]: "idle" } });
    const recent: { p99?: number } = {};
    const d = driver({ p99Ms: () => recent.p99, safetyMarginMs: 2000 });
    await d.integration.start();
    expect(d.warnings()).toHaveLength(0);
    recent.p99 = 8000;
    d.set("busy");
    d.set("idle");
    d.set("busy");
    d.set("idle");
    expect(d.warnings()).toHaveLength(1);
    expect(d.warnings()[0]).toMatchObject({ fields: { terminationGracePeriodSeconds: 5, recommendedGraceSeconds: 10 } });
  });

  it("annotations off: grace period and deadline still work, nothing is written", async ({ onTestFinished }) => {
    const { fake, pod, driver } = await setup(onTestFinished);
    fake.addPod({ namespace: NS, name: pod, terminationGracePeriodSeconds: 12 });
    const d = driver({ annotations: false, busyAfterMs: 0 });
    await d.integration.start();
    await d.runJobs(1500, 20, 450);
    expect(d.integration.specGraceMs).toBe(12_000);
    expect(fake.patches()).toHaveLength(0);
  });
});
