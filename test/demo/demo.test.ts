// @servers none
// `pnpm demo`: the show's accounting, its --json, and its SVG timeline parsed and rendered in
// headless Chromium (Debian's chromium: scripts/install-test-servers.sh installs it).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { spawnWorker } from "../harness/worker-process.js";
import { countColour, readPng } from "./png.js";

const run = promisify(execFile);
const MAIN = new URL("../../packages/examples/dist/demo/main.js", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "quiesce-demo-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FIELDS = [
  "jobs", "interrupted", "runAgainLate", "lost", "runTwice", "busyPodsDeleted", "busyPodsDeletedWithIdlePeer",
  "deletions", "latencyP50Ms", "latencyP99Ms", "scaleDownMs", "interruptedJobMs", "podWrites",
] as const;

interface Side {
  readonly [field: string]: unknown;
  readonly interruptedJobMs: number[];
}

async function demo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawnWorker(MAIN, { args, cwd: dir });
  const exit = await proc.waitForExit(90_000);
  return { code: exit.code, stdout: exit.stdout, stderr: exit.stderr };
}

describe("pnpm demo", () => {
  const svg = join(dir, "timeline.svg");
  let shown: { seed: number; plain: Side; quiesce: Side };

  it("--json: one object with every field for both runs; the accounting holds", { timeout: 120_000 }, async () => {
    const out = await demo(["--fast", "--json", "--seed", "1", "--svg", svg]);
    expect(out.code).toBe(0);
    shown = JSON.parse(out.stdout) as typeof shown;
    expect(shown.seed).toBe(1);
    for (const side of [shown.plain, shown.quiesce]) for (const field of FIELDS) expect(side).toHaveProperty(field);
    const { plain, quiesce } = shown;
    expect(plain.jobs).toBe(quiesce.jobs); // the same seed, the same jobs
    expect(plain.deletions).toBe(15);
    expect(quiesce.lost).toBe(0);
    expect(quiesce.runTwice).toBe(0);
    expect(quiesce.runAgainLate).toBe(0);
    // quiesce hands work back at grace − safety margin (10 s − 1 s): a shorter job always finishes.
    expect(quiesce.interruptedJobMs.filter((ms) => ms < 9000)).toEqual([]);
    expect(plain.interrupted as number).toBeGreaterThanOrEqual(1);
    expect(plain.runAgainLate as number).toBeGreaterThanOrEqual(1);
    expect(plain.busyPodsDeleted as number).toBeGreaterThan(quiesce.busyPodsDeleted as number);
    expect(out.stderr).toContain(`Timeline of every pod: ${svg}`);
  });

  it("the table: both columns, every row, and where the picture went (demo.svg by default)", { timeout: 120_000 }, async () => {
    const out = await demo(["--fast", "--seed", "1"]);
    expect(out.code).toBe(0);
    const header = out.stdout.split("\n").find((l) => /plain\s+quiesce/.test(l));
    expect(header).toBeDefined();
    for (const row of ["jobs", "interrupted", "run again late", "lost", "run twice", "busy pods deleted", "... while an idle pod stayed", "latency p50", "latency p99", "scale-down duration"]) {
      expect(out.stdout).toMatch(new RegExp(`^\\s*${row.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}.*\\d`, "m"));
    }
    expect(out.stdout).toContain(`Timeline of every pod: ${join(dir, "demo.svg")}`);
    expect(readFileSync(join(dir, "demo.svg"), "utf8")).toMatch(/^<\?xml/);
  });

  it("a bad flag stops it with a message naming the flag", async () => {
    const out = await demo(["--workers", "zero"]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--workers must be an integer >= 1, got "zero"');
  });

  it("the SVG parses and renders in headless Chromium, with busy spans and interrupted jobs in view", { timeout: 120_000 }, async () => {
    const text = readFileSync(svg, "utf8");
    const runs = (text.match(/<rect class="run /g) ?? []).length;
    expect(runs).toBeGreaterThanOrEqual(2 * (shown.quiesce.jobs as number));
    const profile = mkdtempSync(join(dir, "chromium-"));
    const flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", `--user-data-dir=${profile}`];
    // Chromium's XML parser: a malformed SVG comes back as a <parsererror> page.
    const dom = await run("chromium", [...flags, "--dump-dom", `file://${svg}`], { timeout: 60_000, maxBuffer: 64 << 20 });
    expect(dom.stdout).not.toContain("parsererror");
    expect((dom.stdout.match(/class="run /g) ?? []).length).toBe(runs);
    const png = join(dir, "timeline.png");
    await run("chromium", [...flags, `--screenshot=${png}`, "--window-size=1200,900", `file://${svg}`], { timeout: 60_000 });
    const pixels = readPng(readFileSync(png));
    expect([pixels.width, pixels.height]).toEqual([1200, 900]);
    expect(countColour(pixels, "#4c78a8")).toBeGreaterThan(5000); // jobs run to the end
    expect(countColour(pixels, "#d62728")).toBeGreaterThan(50); // plain jobs cut by SIGTERM
    expect(countColour(pixels, "#ffffff")).toBeGreaterThan(200_000); // a background, not a black page
  });
});
