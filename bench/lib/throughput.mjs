/**
 * What the raw-client-vs-quiesce throughput benches (bullmq.mjs, amqp.mjs, sqs.mjs) share: timing a run by
 * its completions, the least loop that drives a source alone, the interleaved rounds, medians.
 * Not a bench itself (bench/run.mjs runs only the names it lists).
 */
import { performance } from "node:perf_hooks";
import { fmt, median } from "./stats.mjs";

export const log = (line) => process.stderr.write(`${line}\n`);

/** Counts completions; resolves with the wall and CPU time since `begin()` at the n-th. */
export function counter(n) {
  let done = 0;
  let t0 = 0;
  let cpu0 = null;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  /** `count` completions at once (a batch delete); resolves `finished` when the n-th is among them. */
  const add = (count) => {
    const before = done;
    done += count;
    if (before >= n || done < n) return;
    const cpu = process.cpuUsage(cpu0);
    finish({ seconds: (performance.now() - t0) / 1000, cpuUsPerJob: (cpu.user + cpu.system) / n });
  };
  return {
    finished,
    get done() {
      return done;
    },
    begin() {
      t0 = performance.now();
      cpu0 = process.cpuUsage();
    },
    add,
    /** One completion; takes no argument and no `this`, so it can be handed to an emitter as it is. */
    tick: () => add(1),
  };
}

/** The least loop any runtime needs over a started source: receive up to the free slots, run, ack. */
export async function driveSource(source, slots, n, handler, tick) {
  const signal = new AbortController().signal;
  let inFlight = 0;
  let slotFreed = null;
  const runOne = async (delivery) => {
    const result = await handler(delivery.payload);
    await delivery.ack(result);
    inFlight--;
    tick();
    slotFreed?.();
  };
  let received = 0;
  while (received < n) {
    while (inFlight >= slots) await new Promise((resolve) => (slotFreed = resolve));
    const batch = await source.receive(slots - inFlight, signal);
    for (const delivery of batch) {
      inFlight++;
      received++;
      void runOne(delivery);
    }
  }
}

const ORDERS = [
  ["raw", "quiesce", "source"],
  ["source", "quiesce", "raw"],
  ["quiesce", "raw", "source"],
];

/**
 * For each setting: a warm-up run per mode (not reported), then `reps` rounds with the order of
 * the modes rotated (`orders`: one order of the modes per round, repeated), so drift (server
 * memory, GC, a neighbour) hits every mode alike. `run(mode, setting, n)` resolves with
 * { seconds, cpuUsPerJob }. Returns one row per setting: medians of jobs/s and CPU per job per
 * mode, and every rate.
 */
export async function interleaved({ settings, modes, reps, jobs, warmupJobs, run, label, orders = ORDERS }) {
  const rows = [];
  for (const setting of settings) {
    for (const mode of modes) await run(mode, setting, warmupJobs);
    const rates = Object.fromEntries(modes.map((mode) => [mode, []]));
    const cpu = Object.fromEntries(modes.map((mode) => [mode, []]));
    for (let rep = 0; rep < reps; rep++) {
      for (const mode of orders[rep % orders.length].filter((m) => modes.includes(m))) {
        const result = await run(mode, setting, jobs);
        rates[mode].push(jobs / result.seconds);
        cpu[mode].push(result.cpuUsPerJob);
      }
    }
    const med = Object.fromEntries(modes.map((mode) => [mode, median(rates[mode])]));
    const cpuMed = Object.fromEntries(modes.map((mode) => [mode, median(cpu[mode])]));
    rows.push({ setting, ...med, cpu: cpuMed, rates });
    log(`${label}=${setting}: ${modes.map((mode) => `${mode} ${rates[mode].map((r) => fmt(r)).join(", ")} (${fmt(cpuMed[mode], 1)} µs CPU)`).join(" | ")} /s`);
  }
  return rows;
}

// A mode left out with BENCH_MODES (a profile of some paths) prints as "–".
export const best = (row, mode) => (row.rates[mode] ? Math.max(...row.rates[mode]) : NaN);
/** "median (best)" of a mode's rate. */
export const rate = (row, mode) => (row.rates[mode] ? `${fmt(row[mode])} (${fmt(best(row, mode))})` : "–");
