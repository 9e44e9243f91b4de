#!/usr/bin/env node
/**
 * Cold start: spawn → `GET /readyz` 200 of the example worker, against a bare `node -e` start.
 *
 * Three kinds of process, spawned with the same Node binary, interleaved (order rotated per round):
 *   - worker: the example memory worker (EXAMPLE_JOBS=0, exit-when-empty off, HTTP on 127.0.0.1
 *     port 0): spawn → its "http server listening" line → /readyz polled every 2 ms on a fresh
 *     connection (as the kubelet probes) until 200;
 *   - node: `node -e "0"`, spawn → exit (the cost of any Node process at all; the target's baseline);
 *   - http: a bare `node:http` server, spawn → GET / 200 the same way (the floor for anything that
 *     serves probes; for reference).
 * Reported: median, p90 and best (min) per kind, and the ratio worker / node (target <= 1.5).
 *
 *   node bench/cold-start.mjs                 (after `pnpm run build`)
 *   BENCH_RUNS=10 node bench/cold-start.mjs --hog   (a busy-loop process beside it)
 *
 * Markdown goes to stdout; progress to stderr.
 */
import { execSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { listeningPort, probe, sleep, track, withTimeout } from "./lib/child.mjs";
import { hogsRequested, startHogs } from "./lib/hog.mjs";
import { percentile } from "./lib/stats.mjs";

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 20));
const WORKER = fileURLToPath(new URL("../packages/examples/dist/memory-worker/worker.js", import.meta.url));
const TIMEOUT_MS = 15_000;
const POLL_MS = 2;
const log = (line) => process.stderr.write(`[cold-start] ${line}\n`);

const HTTP_SERVER = `
const http = require("node:http");
const server = http.createServer((req, res) => { res.writeHead(200); res.end("ok"); });
server.listen(0, "127.0.0.1", () => process.stderr.write(JSON.stringify({ msg: "http server listening", port: server.address().port }) + "\\n"));
`;

/** Spawn → first 200 on `path`, then SIGKILL. */
async function untilReady(args, env, path) {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } });
  const exited = track(child);
  try {
    const port = await withTimeout(listeningPort(child), TIMEOUT_MS, `${args[0]} listening`);
    const readyBy = performance.now() + TIMEOUT_MS;
    while ((await probe(port, path)) !== 200) {
      if (performance.now() > readyBy) throw new Error(`${path} never answered 200`);
      await sleep(POLL_MS);
    }
    return performance.now() - spawnedAt;
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
}

const kinds = {
  worker: () =>
    untilReady([WORKER], { EXAMPLE_JOBS: "0", QUIESCE_EXIT_WHEN_EMPTY: "0", QUIESCE_HTTP_PORT: "0", QUIESCE_HTTP_HOST: "127.0.0.1", QUIESCE_LOG_LEVEL: "info" }, "/readyz"),
  node: async () => {
    const spawnedAt = performance.now();
    const { code, at } = await withTimeout(track(spawn(process.execPath, ["-e", "0"], { stdio: "ignore" })), TIMEOUT_MS, "node -e 0");
    if (code !== 0) throw new Error(`node -e 0 exited with ${code}`);
    return at - spawnedAt;
  },
  http: () => untilReady(["-e", HTTP_SERVER], {}, "/"),
};
const ORDERS = [
  ["worker", "node", "http"],
  ["node", "http", "worker"],
  ["http", "worker", "node"],
];

function uptime() {
  try {
    return execSync("uptime", { encoding: "utf8" }).trim();
  } catch {
    return "uptime unavailable";
  }
}

async function main() {
  if (!existsSync(WORKER)) {
    log(`${WORKER} is missing: run \`pnpm run build\` first`);
    process.exit(1);
  }
  const hogs = startHogs(hogsRequested());
  const loadAtStart = uptime();
  const started = performance.now();
  const times = { worker: [], node: [], http: [] };
  try {
    // Warm-up: the first spawns pay for cold file caches.
    for (const kind of Object.keys(kinds)) await kinds[kind]();
    for (let i = 0; i < RUNS; i++) for (const kind of ORDERS[i % ORDERS.length]) times[kind].push(await kinds[kind]());
  } finally {
    hogs.stop();
  }
  for (const [kind, xs] of Object.entries(times)) log(`${kind} ms: ${xs.map((x) => x.toFixed(1)).join(" ")}`);
  const med = (kind) => percentile(times[kind], 50);
  const best = (kind) => Math.min(...times[kind]);
  const row = (label, kind) =>
    `| ${label} | ${med(kind).toFixed(1)} | ${percentile(times[kind], 90).toFixed(1)} | ${best(kind).toFixed(1)} | ${(med(kind) / med("node")).toFixed(2)} |`;
  const lines = [
    "### Cold start: spawn → ready",
    "",
    `${RUNS} runs per kind, interleaved (order rotated), after one warm-up each; ${hogs.count ? `${hogs.count} CPU hog process(es) beside it` : "no CPU hog"}. Node ${process.version}.`,
    `Load at the start: ${loadAtStart}.`,
    "",
    "| process | median ms | p90 ms | best ms | / node -e (medians) |",
    "|---|---:|---:|---:|---:|",
    row("example worker: spawn → /readyz 200", "worker"),
    row('`node -e "0"`: spawn → exit', "node"),
    row("bare `node:http` server: spawn → GET / 200", "http"),
    "",
    `**Ratio worker / \`node -e\`: ${(med("worker") / med("node")).toFixed(2)} (medians), ${(best("worker") / best("node")).toFixed(2)} (best runs)**; target <= 1.5.`,
    `Load at the end: ${uptime()}; bench took ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

await main();
