#!/usr/bin/env node
/**
 * SIGTERM → exit time of an idle worker, against `node -e "0"` start-and-exit.
 *
 * The worker is the example memory worker with no jobs and exit-when-empty off
 * (EXAMPLE_JOBS=0 QUIESCE_EXIT_WHEN_EMPTY=0), its HTTP server on 127.0.0.1 port 0. Each run:
 * spawn it, read its port from the "http server listening" log line on stderr, poll GET /readyz
 * (a fresh connection each time, as kubelet probes do) until 200, send SIGTERM, and time until the
 * process has exited. `node -e "0"` runs are interleaved with the worker runs so both see the same
 * machine load. Reported: median and p90 (nearest rank) of each, the ratio of the medians, and the
 * spawn → ready time for reference.
 *
 *   node bench/shutdown.mjs                 (after `pnpm run build`)
 *   BENCH_RUNS=5 node bench/shutdown.mjs    (quicker)
 *
 * Markdown goes to stdout; progress to stderr.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { listeningPort, probe, sleep, track, withTimeout } from "./lib/child.mjs";
import { percentile } from "./lib/stats.mjs";

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 20));
const WORKER = fileURLToPath(new URL("../packages/examples/dist/memory-worker/worker.js", import.meta.url));
const READY_TIMEOUT_MS = 15_000;
const EXIT_TIMEOUT_MS = 15_000;
const POLL_MS = 2;

const log = (line) => process.stderr.write(`[shutdown] ${line}\n`);

async function workerRun() {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [WORKER], {
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      ...process.env,
      EXAMPLE_JOBS: "0",
      QUIESCE_EXIT_WHEN_EMPTY: "0",
      QUIESCE_HTTP_PORT: "0",
      QUIESCE_HTTP_HOST: "127.0.0.1",
      QUIESCE_LOG_LEVEL: "info",
    },
  });
  const exited = track(child);
  try {
    const port = await withTimeout(listeningPort(child), READY_TIMEOUT_MS, "worker listening");
    const readyBy = performance.now() + READY_TIMEOUT_MS;
    while ((await probe(port, "/readyz")) !== 200) {
      if (performance.now() > readyBy) throw new Error("worker /readyz never answered 200");
      await sleep(POLL_MS);
    }
    const readyAt = performance.now();
    const termAt = performance.now();
    child.kill("SIGTERM");
    const { code, signal, at } = await withTimeout(exited, EXIT_TIMEOUT_MS, "worker exit after SIGTERM");
    if (code !== 0) throw new Error(`idle worker exited with ${code ?? signal} after SIGTERM, expected 0`);
    return { readyMs: readyAt - spawnedAt, shutdownMs: at - termAt };
  } finally {
    child.kill("SIGKILL");
  }
}

async function nodeRun() {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, ["-e", "0"], { stdio: "ignore" });
  const { code, at } = await withTimeout(track(child), EXIT_TIMEOUT_MS, "node -e 0");
  if (code !== 0) throw new Error(`node -e 0 exited with ${code}`);
  return at - spawnedAt;
}

async function main() {
  if (!existsSync(WORKER)) {
    log(`${WORKER} is missing: run \`pnpm run build\` first`);
    process.exit(1);
  }
  const started = performance.now();
  // Warm-up: the first spawns pay for cold file caches.
  await workerRun();
  await nodeRun();
  const shutdown = [];
  const ready = [];
  const nodeStart = [];
  for (let i = 0; i < RUNS; i++) {
    const order = i % 2 === 0 ? ["worker", "node"] : ["node", "worker"];
    for (const what of order) {
      if (what === "node") nodeStart.push(await nodeRun());
      else {
        const run = await workerRun();
        shutdown.push(run.shutdownMs);
        ready.push(run.readyMs);
      }
    }
  }
  log(`shutdown ms: ${shutdown.map((x) => x.toFixed(1)).join(" ")}`);
  log(`node -e 0 ms: ${nodeStart.map((x) => x.toFixed(1)).join(" ")}`);
  log(`spawn → ready ms: ${ready.map((x) => x.toFixed(1)).join(" ")}`);

  const row = (name, xs) =>
    `| ${name} | ${percentile(xs, 50).toFixed(1)} | ${percentile(xs, 90).toFixed(1)} | ${Math.min(...xs).toFixed(1)} | ${Math.max(...xs).toFixed(1)} |`;
  const ratio = percentile(shutdown, 50) / percentile(nodeStart, 50);
  const lines = [
    "### Idle worker: SIGTERM → exit",
    "",
    `${RUNS} runs each, interleaved, after one warm-up. Example memory worker, EXAMPLE_JOBS=0, exit-when-empty off, ready = GET /readyz 200.`,
    "",
    "| measurement | median ms | p90 ms | min ms | max ms |",
    "|---|---:|---:|---:|---:|",
    row("worker: SIGTERM → exit (code 0)", shutdown),
    row('`node -e "0"`: spawn → exit', nodeStart),
    row("worker: spawn → /readyz 200 (reference)", ready),
    "",
    `Ratio SIGTERM → exit / \`node -e "0"\` start-and-exit (medians): **${ratio.toFixed(2)}**. Bench took ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

await main();
