#!/usr/bin/env node
/**
 * Runs every benchmark in bench/ that exists, one after another, each in its own Node process, and
 * writes the combined markdown to bench/results/latest.md (git-ignored).
 *
 *   pnpm bench                 (= pnpm run build && node bench/run.mjs)
 *   node bench/run.mjs memory  (only the named ones)
 *
 * Each bench prints markdown tables on stdout (collected here) and progress on stderr (passed
 * through). A bench that fails or overruns its time limit is reported as such; the others still run.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const BENCHES = ["memory", "shutdown", "cold-start", "rss", "bullmq", "amqp", "sqs", "kubernetes-reporter", "pg", "scale-down", "checkpoint"];
/** Run only when named: the soak takes many minutes. */
const ON_REQUEST = ["soak"];
/** Upper bound for one bench; it is killed (with its process group) past this. */
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 10 * 60_000);

const benchDir = fileURLToPath(new URL(".", import.meta.url));
const resultsDir = fileURLToPath(new URL("./results/", import.meta.url));
const only = process.argv.slice(2);

let current = null;
function killCurrent() {
  if (!current || current.exitCode !== null) return;
  try {
    process.kill(-current.pid, "SIGKILL"); // its own group: grandchildren (workers, servers) too
  } catch {
    current.kill("SIGKILL");
  }
}
process.on("exit", killCurrent);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    killCurrent();
    process.exit(130);
  });
}

function runBench(name) {
  return new Promise((resolve) => {
    const file = `${benchDir}${name}.mjs`;
    const started = performance.now();
    const child = spawn(process.execPath, ["--expose-gc", file], {
      stdio: ["ignore", "pipe", "inherit"],
      detached: true, // a process group of its own, so a timeout can take all of it down
    });
    current = child;
    let stdout = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => (stdout += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killCurrent();
    }, TIMEOUT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      current = null;
      const seconds = (performance.now() - started) / 1000;
      resolve({ name, ok: code === 0 && !timedOut, code, signal, timedOut, seconds, stdout });
    });
  });
}

/** The commit the numbers belong to, and whether the work tree had changes on top of it. */
function revision() {
  try {
    const cwd = fileURLToPath(new URL("..", import.meta.url));
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd, encoding: "utf8" }).trim() !== "";
    return `${head}${dirty ? " (with uncommitted changes)" : ""}`;
  } catch {
    return "unknown (not a git checkout)";
  }
}

function cpuModel() {
  return os.cpus()[0]?.model.trim() ?? "unknown CPU";
}

async function main() {
  const selected = [...BENCHES, ...ON_REQUEST].filter((name) => (only.length === 0 ? BENCHES.includes(name) : only.includes(name)));
  const unknown = only.filter((name) => !BENCHES.includes(name) && !ON_REQUEST.includes(name));
  if (unknown.length > 0) {
    process.stderr.write(`unknown bench: ${unknown.join(", ")} (known: ${[...BENCHES, ...ON_REQUEST].join(", ")})\n`);
    process.exit(2);
  }
  const header = [
    `# quiesce benchmarks`,
    "",
    `- date: ${new Date().toISOString()}`,
    `- commit: ${revision()}`,
    `- node: ${process.version} (${process.platform}/${process.arch})`,
    `- nproc: ${os.availableParallelism?.() ?? os.cpus().length}, ${cpuModel()}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    `- load average at start: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
    "",
  ];
  process.stdout.write(`${header.join("\n")}\n`);
  const sections = [];
  const failed = [];
  for (const name of selected) {
    if (!existsSync(`${benchDir}${name}.mjs`)) {
      process.stderr.write(`[run] bench/${name}.mjs not present: skipped\n`);
      continue;
    }
    process.stderr.write(`[run] bench/${name}.mjs ...\n`);
    const result = await runBench(name);
    let section = `## ${name}\n\n${result.stdout.trim()}\n`;
    if (!result.ok) {
      failed.push(name);
      const why = result.timedOut ? `timed out after ${TIMEOUT_MS / 1000} s` : `exited with ${result.code ?? result.signal}`;
      section += `\n**bench/${name}.mjs failed: ${why}** (see its stderr above).\n`;
    }
    section += `\n_${name}: ${result.seconds.toFixed(0)} s_\n`;
    process.stdout.write(`\n${section}`);
    sections.push(section);
  }
  const markdown = `${header.join("\n")}\n${sections.join("\n")}`;
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(`${resultsDir}latest.md`, markdown);
  process.stderr.write(`[run] wrote bench/results/latest.md\n`);
  if (failed.length > 0) {
    process.stderr.write(`[run] failed: ${failed.join(", ")}\n`);
    process.exitCode = 1;
  }
}

await main();
