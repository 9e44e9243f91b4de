// @servers none
// Which pods a ReplicaSet scale-down deletes, with the SDK's default reporter: the demo's simulation
// (real createWorker pods on the in-memory queue, virtual time), the scenario of the issue, 5 seeds.
import { afterEach, describe, expect, it, vi } from "vitest";
import { runWorlds } from "../../packages/examples/demo/sim/run.js";
import { seeded } from "../../packages/examples/demo/sim/random.js";
import { defaultScenario } from "../../packages/examples/demo/sim/scenario.js";
import type { WorldResult } from "../../packages/examples/demo/sim/world.js";
import { defaults } from "../../packages/sdk/src/config/resolve.js";
import type { PodApi, PodSnapshot } from "../../packages/sdk/src/index.js";
import { PodDriver } from "./pod-driver.js";

const SEEDS = [1, 2, 3, 4, 5];
const STATE = "quiesce.dev/state";
const COST = "controller.kubernetes.io/pod-deletion-cost";

const scenarios = (informerLagMs: number, reporting = {}) =>
  SEEDS.map((seed) => ({ scenario: { ...defaultScenario, seed }, kind: "quiesce" as const, informerLagMs, reporting }));

/** Every PATCH a pod got changes its state or its cost: no write repeats what the pod already says. */
function repeatedWrites(result: WorldResult): number {
  let repeats = 0;
  for (const pod of result.pods) {
    let said: { state: string | null | undefined; cost: string | null | undefined } = { state: undefined, cost: undefined };
    for (const { patch } of pod.writes) {
      const next = { state: patch[STATE] ?? said.state, cost: COST in patch ? patch[COST] : said.cost };
      if (next.state === said.state && next.cost === said.cost) repeats++;
      said = next;
    }
  }
  return repeats;
}

describe("scale-down choice (8 pods, churn 8→2→8→6→8→5→8→4→8, grace 10 s)", () => {
  it("no run deletes more than 1 busy pod while an idle one stands; fewer than with the old 2 s busy mark", { timeout: 120_000 }, async () => {
    const now = await runWorlds(scenarios(0));
    const before = await runWorlds(scenarios(0, { busyAfterMs: 2000, tuning: { quietMs: 400, idleSkipsInterval: false } }));
    const withPeer = now.map((r) => r.busyDeletedWithIdlePeer);
    const withPeerBefore = before.map((r) => r.busyDeletedWithIdlePeer);
    console.log(`busy victims with an idle peer per seed: ${withPeer.join(", ")} (old settings: ${withPeerBefore.join(", ")})`);
    expect(now.map((r) => r.deletions)).toEqual(SEEDS.map(() => 15));
    expect(Math.max(...withPeer)).toBeLessThanOrEqual(1);
    expect(withPeer.reduce((a, b) => a + b, 0)).toBeLessThan(withPeerBefore.reduce((a, b) => a + b, 0));
    for (const r of now) {
      expect(r.totals.lost).toBe(0);
      expect(r.totals.runTwice).toBe(0);
      expect(repeatedWrites(r)).toBe(0);
    }
  });

  it("with 500 ms of informer lag the choice degrades only by what the lag hides", { timeout: 120_000 }, async () => {
    const lagged = await runWorlds(scenarios(500));
    const withPeer = lagged.map((r) => r.busyDeletedWithIdlePeer);
    const hidden = lagged.map((r) => r.hiddenByLag);
    console.log(`500 ms lag: busy victims with an idle peer per seed: ${withPeer.join(", ")}, of which the lag hid: ${hidden.join(", ")}`);
    // What the API server already said right, and only the cache did not know yet, is the lag's doing.
    expect(Math.max(...lagged.map((r) => r.busyDeletedWithIdlePeer - r.hiddenByLag))).toBeLessThanOrEqual(1);
    for (const r of lagged) expect(repeatedWrites(r)).toBe(0);
  });
});

describe("pod writes at 1,000 short jobs/s steady", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("stay within 60 per pod-hour (so 100 pods stay under 2 writes/s), every one a transition", { timeout: 120_000 }, async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1), toFake: ["setTimeout", "clearTimeout", "Date", "performance"] });
    const writes: Array<Record<string, string | null>> = [];
    let pod: PodSnapshot = { annotations: {}, terminationGracePeriodSeconds: 30, deletionTimestamp: undefined, resourceVersion: "1" };
    const podApi: PodApi = {
      read: () => Promise.resolve(pod),
      patchAnnotations: (patch) =>
        new Promise((resolve) => {
          setTimeout(() => {
            writes.push(patch);
            const next: Record<string, string> = { ...pod.annotations };
            for (const [k, v] of Object.entries(patch)) {
              if (v === null) delete next[k];
              else next[k] = v;
            }
            pod = { ...pod, annotations: next };
            resolve(pod);
          }, 20);
        }),
    };
    // The SDK's defaults, only the API replaced.
    const d = new PodDriver({ podName: "steady", namespace: "t", kubeconfig: "", podApi, busyAfterMs: defaults.busyAfterMs });
    await d.integration.start();
    d.set("idle");
    const flush = async (): Promise<void> => {
      for (let i = 0; i < 4; i++) await null;
    };
    // 15 minutes of Poisson arrivals at 1,000/s, jobs 0.1–0.5 ms, one at a time.
    const random = seeded(11);
    const minutes = 15;
    const end = Date.now() + minutes * 60_000;
    let arrival = Date.now();
    let jobs = 0;
    while (Date.now() < end) {
      arrival += random.exponential(1);
      if (arrival > Date.now()) vi.advanceTimersByTime(arrival - Date.now());
      d.set("busy");
      await flush();
      vi.advanceTimersByTime(random.between(0.1, 0.5));
      d.set("idle");
      await flush();
      jobs++;
    }
    vi.advanceTimersByTime(5000);
    await flush();
    await d.integration.stop();
    const perPodHour = (writes.length * 60) / minutes;
    console.log(`${jobs} jobs in ${minutes} min: ${writes.length} writes (${perPodHour} per pod-hour; 100 pods: ${((perPodHour * 100) / 3600).toFixed(2)}/s)`);
    expect(jobs).toBeGreaterThan(minutes * 60 * 900);
    expect(perPodHour).toBeLessThanOrEqual(60);
    // idle, busy, the cost doubling at 1, 2, 4 and 8 minutes, idle at the end.
    expect(writes.map((w) => w[STATE] ?? w[COST])).toEqual(["idle", "busy", "2", "4", "8", "16", "idle"]);
  });
});
