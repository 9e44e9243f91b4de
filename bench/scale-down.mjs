#!/usr/bin/env node
/**
 * Which pods does a scale-down delete? The demo's simulation (packages/examples/demo/sim: a
 * ReplicaSet of real createWorker pods on the in-memory queue, virtual time) under each reporter
 * setting, 5 seeds, with and without informer lag; plus the pod writes of one worker at 1,000
 * short jobs/s steady for an hour of virtual time, through the real pod integration.
 *
 *   pnpm run build && node bench/scale-down.mjs            (about a minute)
 *   BENCH_SEEDS=1,2 BENCH_SETTINGS=old,edge node bench/scale-down.mjs
 *
 * Virtual time makes every figure a function of the seed alone: the machine's load cannot move
 * them, so there is nothing to interleave or take a median of.
 */
import { withGlobal } from "@sinonjs/fake-timers";
import { runWorlds } from "../packages/examples/dist/demo/sim/run.js";
import { defaultScenario } from "../packages/examples/dist/demo/sim/scenario.js";
import { seeded } from "../packages/examples/dist/demo/sim/random.js";
import { EventEmitter } from "node:events";
import { noopLogger } from "../packages/sdk/dist/index.js";
// The pod integration is internal: its bundle entry exists for this bench (see the SDK's rolldown.config.mjs).
import { createPodIntegration } from "../packages/sdk/dist/kubernetes/index.js";

/** The settings tried: busyAfterMs and the reporter's levers; `defaults` passes nothing (the SDK's defaults). */
const lever = (label, busyAfterMs, quietMs, { withdraw = false, idleSkips = false, idleCost = 0 } = {}) => ({
  label,
  busyAfterMs,
  tuning: { quietMs, withdrawUnshown: withdraw, idleSkipsInterval: idleSkips, idleCost },
});
const SETTINGS = {
  old: lever("before: busy after 2 s, quiet 400 ms, idle waits for the spacing", 2000, 400),
  old_neg: lever("the same, idle cost -1", 2000, 400, { idleCost: -1 }),
  after500: lever("busy after 500 ms, quiet 400 ms", 500, 400),
  edge: lever("busy on the edge, quiet 400 ms", 0, 400),
  edge_q100: lever("edge, quiet 100 ms", 0, 100),
  edge_q100_neg: lever("edge, quiet 100 ms, idle cost -1", 0, 100, { idleCost: -1 }),
  edge_q100_w: lever("edge, quiet 100 ms, withdraw an unshown busy mark", 0, 100, { withdraw: true }),
  edge_q100_i: lever("edge, quiet 100 ms, idle skips the spacing", 0, 100, { idleSkips: true }),
  edge_q100_w_i: lever("edge, quiet 100 ms, withdraw, idle skips the spacing", 0, 100, { withdraw: true, idleSkips: true }),
  edge_q50_i: lever("edge, quiet 50 ms, idle skips the spacing", 0, 50, { idleSkips: true }),
  edge_q200_i: lever("edge, quiet 200 ms, idle skips the spacing", 0, 200, { idleSkips: true }),
  edge_q400_i: lever("edge, quiet 400 ms, idle skips the spacing", 0, 400, { idleSkips: true }),
  a500_q200_i: lever("busy after 500 ms, quiet 200 ms, idle skips the spacing", 500, 200, { idleSkips: true }),
  defaults: { label: "**the SDK's defaults now** (= edge, quiet 200 ms, idle skips the spacing)", busyAfterMs: undefined, tuning: undefined },
};

const seeds = (process.env.BENCH_SEEDS ?? "1,2,3,4,5").split(",").map(Number);
const names = process.env.BENCH_SETTINGS ? process.env.BENCH_SETTINGS.split(",") : Object.keys(SETTINGS);
const lags = [0, 500];
const started = performance.now();

const reporting = (s) => ({ ...(s.busyAfterMs === undefined ? {} : { busyAfterMs: s.busyAfterMs }), ...(s.tuning === undefined ? {} : { tuning: s.tuning }) });

const rows = [];
for (const name of names) {
  const s = SETTINGS[name];
  const row = { name, label: s.label, steady: process.env.BENCH_STEADY === "0" ? NaN : await steadyWritesPerHour(s), byLag: {} };
  for (const lag of lags) {
    const results = await runWorlds(seeds.map((seed) => ({ scenario: { ...defaultScenario, seed }, kind: "quiesce", informerLagMs: lag, reporting: reporting(s) })));
    row.byLag[lag] = {
      withPeer: results.map((r) => r.busyDeletedWithIdlePeer),
      hidden: results.map((r) => r.hiddenByLag),
      busy: results.map((r) => r.busyDeleted),
      deletions: results.map((r) => r.deletions),
      writesPerPodHour: results.reduce((a, r) => a + r.podWrites, 0) / results.reduce((a, r) => a + r.podHours, 0),
      interrupted: results.map((r) => r.totals.interrupted),
    };
  }
  rows.push(row);
  process.stderr.write(`${name}: ${JSON.stringify(row.byLag[0].withPeer)} / lag ${JSON.stringify(row.byLag[500].withPeer)}, steady ${row.steady.toFixed(0)}/h\n`);
}

const sum = (xs) => xs.reduce((a, b) => a + b, 0);
console.log("#### Scale-down choice: busy victims with an idle peer, by reporter setting\n");
console.log(
  `Scenario: 8 pods, churn ${[8, ...defaultScenario.schedule].join("→")} (15 deletions a run), jobs 85 % 0.2–2 s / 15 % 5–20 s, ` +
    `offered load ${defaultScenario.utilization * 100} % of the replicas, grace ${defaultScenario.graceSeconds} s, PATCH latency 20 ms; seeds ${seeds.join(", ")}.\n`,
);
console.log("| setting | busy victims with an idle peer, per seed (lag 0) | worst run | per seed (lag 500 ms) [of which the lag hid] | worst run | busy victims in all (lag 0 / 500) | writes per pod-hour in the scenario | writes per pod-hour at 1,000 jobs/s steady |");
console.log("|---|---|---:|---|---:|---:|---:|---:|");
for (const r of rows) {
  const a = r.byLag[0];
  const b = r.byLag[500];
  console.log(
    `| ${r.label} | ${a.withPeer.join(", ")} | ${Math.max(...a.withPeer)} | ${b.withPeer.map((n, i) => `${n} [${b.hidden[i]}]`).join(", ")} | ${Math.max(...b.withPeer)} | ` +
      `${sum(a.busy)} / ${sum(b.busy)} of ${sum(a.deletions)} | ${a.writesPerPodHour.toFixed(0)} | ${r.steady.toFixed(1)} |`,
  );
}
console.log(`\nNode ${process.version}; bench took ${((performance.now() - started) / 1000).toFixed(0)} s (virtual time: the figures do not depend on the machine's load).`);

/**
 * One pod's writes in an hour of 1,000 short jobs a second (Poisson arrivals, jobs 0.1–0.5 ms,
 * one at a time), through the real pod integration and reporter, on fake timers.
 */
async function steadyWritesPerHour(setting) {
  const realImmediate = globalThis.setImmediate;
  const clock = withGlobal(globalThis).install({ now: Date.UTC(2026, 0, 1), toFake: ["setTimeout", "clearTimeout", "Date", "performance"], shouldClearNativeTimers: true });
  try {
    let writes = 0;
    const pod = { annotations: {}, terminationGracePeriodSeconds: 30, deletionTimestamp: undefined, resourceVersion: "1" };
    const podApi = {
      read: async () => pod,
      patchAnnotations: (patch) =>
        new Promise((resolve) => {
          setTimeout(() => {
            writes++;
            const next = { ...pod.annotations };
            for (const [k, v] of Object.entries(patch)) {
              if (v === null) delete next[k];
              else next[k] = v;
            }
            pod.annotations = next;
            resolve({ ...pod });
          }, 20);
        }),
    };
    const events = new EventEmitter();
    let state = "idle";
    const status = () => ({ state, inFlight: state === "busy" ? 1 : 0 });
    const config = {
      podName: "steady", namespace: "bench", annotations: true, safeToEvict: true, doNotDisrupt: true, kubeconfig: null,
      busyAfterMs: setting.busyAfterMs ?? 2000, podApi, ...(setting.tuning === undefined ? {} : { tuning: setting.tuning }),
    };
    const integration = createPodIntegration(config, { status, on: (event, listener) => (events.on(event, listener), () => events.off(event, listener)), logger: noopLogger, recentJobP99Ms: () => undefined, safetyMarginMs: 1000 }, { env: {} });
    await integration.start();
    const flush = async () => {
      for (let i = 0; i < 4; i++) await null;
    };
    const set = (to) => {
      const from = state;
      state = to;
      events.emit("state:changed", { from, to, reason: "bench", at: Date.now() });
    };
    const random = seeded(7).fork("steady");
    const end = Date.now() + 3_600_000;
    let n = 0;
    let arrival = Date.now();
    while (Date.now() < end) {
      // A job waits for the one before it; the gap to the next start is what is left of the arrival gap.
      arrival += random.exponential(1);
      if (arrival > Date.now()) clock.tick(arrival - Date.now());
      set("busy");
      await flush();
      clock.tick(random.between(0.1, 0.5));
      set("idle");
      await flush();
      if (++n % 100_000 === 0) await new Promise((r) => realImmediate(r));
    }
    clock.tick(10_000);
    await flush();
    await integration.stop();
    return writes;
  } finally {
    clock.uninstall();
  }
}
