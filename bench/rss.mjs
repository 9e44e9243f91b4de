#!/usr/bin/env node
/**
 * Idle RSS of the example worker, against a bare Node process and a bare node:http server.
 *
 * Five kinds of process, each spawned with the same Node binary and flags:
 *   - worker: the example memory worker, EXAMPLE_JOBS=0, exit-when-empty off, HTTP on 127.0.0.1:0,
 *     never scraped (prom-client is loaded at the first scrape, so it is not in this figure);
 *   - worker + metrics: the same, after one GET /metrics (prom-client loaded, every metric built);
 *   - worker + metrics + reporter: the same with the pod reporter on (POD_NAME, POD_NAMESPACE and a
 *     KUBECONFIG for bench/lib/kube-api-fake.mjs, the tests' fake API server in its own process),
 *     read once the reporter has written the pod (client-node loaded) and after one scrape;
 *   - node: `node -e "setInterval(() => {}, 1000)"` (the floor: a runtime that does nothing);
 *   - http: a bare `node:http` server answering 200 on 127.0.0.1:0 (the floor for anything that
 *     serves probes).
 * Each is waited for until ready (worker: GET /readyz 200; http: GET / 200, each on a fresh
 * connection; node: spawned and running its first timer), then left idle 2 s, then its VmRSS (and
 * RssAnon, the part that is its own heap rather than mapped files) is read from /proc/PID/status.
 * All run side by side in each round; the median of the rounds is reported.
 *
 *   node bench/rss.mjs                  (after `pnpm run build`; Linux only: reads /proc)
 *   BENCH_ROUNDS=1 node bench/rss.mjs   (quicker)
 *
 * Markdown goes to stdout; progress to stderr.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { performance } from "node:perf_hooks";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { listeningPort, probe, sleep, track, withTimeout } from "./lib/child.mjs";
import { startKubeApiFake, writeKubeconfig } from "./lib/kube-api-fake.mjs";
import { median } from "./lib/stats.mjs";

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const IDLE_MS = 2_000;
const READY_TIMEOUT_MS = 15_000;
const WORKER = fileURLToPath(new URL("../packages/examples/dist/memory-worker/worker.js", import.meta.url));

const log = (line) => process.stderr.write(`[rss] ${line}\n`);

const HTTP_SERVER = `
const http = require("node:http");
const server = http.createServer((req, res) => { res.writeHead(200, { "content-type": "text/plain" }); res.end("ok"); });
server.listen(0, "127.0.0.1", () => process.stderr.write(JSON.stringify({ msg: "http server listening", port: server.address().port }) + "\\n"));
`;

const WORKER_ENV = { EXAMPLE_JOBS: "0", QUIESCE_EXIT_WHEN_EMPTY: "0", QUIESCE_HTTP_PORT: "0", QUIESCE_HTTP_HOST: "127.0.0.1" };
const NAMESPACE = "bench";
const TOKEN = "bench-rss-token";

const KINDS = {
  worker: {
    label: "example worker (idle, HTTP on, never scraped)",
    args: [WORKER],
    env: WORKER_ENV,
    readyPath: "/readyz",
  },
  metrics: {
    label: "example worker + metrics (after one GET /metrics)",
    args: [WORKER],
    env: WORKER_ENV,
    readyPath: "/readyz",
    scrape: true,
  },
  reporter: {
    label: "example worker + metrics + pod reporter",
    args: [WORKER],
    env: WORKER_ENV,
    readyPath: "/readyz",
    scrape: true,
    pod: true,
  },
  node: {
    label: '`node -e "setInterval(()=>{},1000)"`',
    args: ["-e", "setInterval(() => {}, 1000); process.stderr.write('ready\\n');"],
    env: {},
    readyPath: null,
  },
  http: {
    label: "bare `node:http` server",
    args: ["-e", HTTP_SERVER],
    env: {},
    readyPath: "/",
  },
};

/** The port of the "http server listening" JSON line; for a process without HTTP, null at its first line. */
function firstSignOfLife(child, kind, wantPort) {
  if (wantPort) return withTimeout(listeningPort(child), READY_TIMEOUT_MS, `${kind} listening`);
  child.stderr.resume();
  return withTimeout(once(child.stderr, "data"), READY_TIMEOUT_MS, `${kind} first line`).then(() => null);
}

function readStatus(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: kb("VmRSS") / 1024, anon: kb("RssAnon") / 1024 };
}

/** The fake API server and a kubeconfig for it, started once if a kind needs a pod. */
let kube = null;
let podSeq = 0;
async function kubeEnv() {
  if (!kube) {
    const dir = mkdtempSync(join(os.tmpdir(), "quiesce-bench-rss-"));
    const api = await startKubeApiFake({ token: TOKEN });
    const kubeconfig = writeKubeconfig(dir, { port: api.port, token: TOKEN, namespace: NAMESPACE });
    kube = { api, kubeconfig, close: () => (api.kill(), rmSync(dir, { recursive: true, force: true })) };
    process.on("exit", () => kube?.close());
  }
  const name = `rss-worker-${++podSeq}`;
  await kube.api.call({ op: "addPod", namespace: NAMESPACE, name });
  return { name, env: { POD_NAME: name, POD_NAMESPACE: NAMESPACE, KUBECONFIG: kube.kubeconfig } };
}

/** Resolves once the fake has seen a PATCH of the pod (the reporter's first write). */
async function firstPodWrite(name) {
  const by = performance.now() + READY_TIMEOUT_MS;
  for (;;) {
    const { requests } = await kube.api.call({ op: "requests", namespace: NAMESPACE, name });
    if (requests.some((r) => r.method === "PATCH")) return;
    if (performance.now() > by) throw new Error(`pod ${name}: no PATCH within ${READY_TIMEOUT_MS} ms`);
    await sleep(20);
  }
}

async function measure(kind) {
  const spec = KINDS[kind];
  const pod = spec.pod ? await kubeEnv() : null;
  const child = spawn(process.execPath, spec.args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...spec.env, ...pod?.env } });
  const exited = track(child);
  try {
    const port = await firstSignOfLife(child, kind, spec.readyPath !== null);
    if (spec.readyPath !== null) {
      const by = performance.now() + READY_TIMEOUT_MS;
      while ((await probe(port, spec.readyPath)) !== 200) {
        if (performance.now() > by) throw new Error(`${kind}: ${spec.readyPath} never answered 200`);
        await sleep(5);
      }
    }
    if (pod) await firstPodWrite(pod.name);
    if (spec.scrape && (await probe(port, "/metrics")) !== 200) throw new Error(`${kind}: /metrics did not answer 200`);
    await sleep(IDLE_MS);
    return readStatus(child.pid);
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
}

async function main() {
  if (process.platform !== "linux") {
    log("reads /proc/PID/status: Linux only");
    process.exit(1);
  }
  if (!existsSync(WORKER)) {
    log(`${WORKER} is missing: run \`pnpm run build\` first`);
    process.exit(1);
  }
  const started = performance.now();
  const samples = Object.fromEntries(Object.keys(KINDS).map((kind) => [kind, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    const results = await Promise.all(Object.keys(KINDS).map(async (kind) => [kind, await measure(kind)]));
    for (const [kind, value] of results) samples[kind].push(value);
    log(`round ${round}: ${results.map(([kind, v]) => `${kind} ${v.rss.toFixed(1)} MB`).join(", ")}`);
  }
  const med = (kind, field) => median(samples[kind].map((s) => s[field]));
  const base = med("node", "rss");
  const lines = [
    "### Idle RSS",
    "",
    `VmRSS after ready (and the scrape or first pod write where noted) + ${IDLE_MS / 1000} s idle, median of ${ROUNDS} rounds (all processes side by side in each round). Load at the end: ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}.`,
    "",
    "| process | VmRSS MB | RssAnon MB | this − idle `node -e`, MB |",
    "|---|---:|---:|---:|",
  ];
  for (const kind of Object.keys(KINDS)) {
    const rss = med(kind, "rss");
    const delta = kind === "node" ? "—" : `+${(rss - base).toFixed(1)}`;
    lines.push(`| ${KINDS[kind].label} | ${rss.toFixed(1)} | ${med(kind, "anon").toFixed(1)} | ${delta} |`);
  }
  kube?.close();
  kube = null;
  lines.push("");
  lines.push(`Bench took ${((performance.now() - started) / 1000).toFixed(0)} s.`);
  process.stdout.write(`${lines.join("\n")}\n`);
}

await main();
