// @servers redis
// A new user's first ten minutes: the packed tarballs installed with npm into an empty project
// (third-party dependencies from the registry, as `npm install` would get them), then the
// Quickstart of the package README run there as written, against a real Redis: it takes jobs,
// answers /status, and exits 0 on SIGTERM. Nothing of the workspace is visible to it.
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { freePort } from "../harness/ports.js";
import { servers } from "../harness/servers.js";
import { uniqueName } from "../harness/unique.js";
import { spawnWorker } from "../harness/worker-process.js";
import { packAll, repoRoot, type Packed } from "./pack.js";

const run = promisify(execFile);

/** The first ```ts block under "## Quickstart" of a README. */
function quickstart(readme: string): string {
  const section = readme.slice(readme.indexOf("## Quickstart"));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error("no ts block under ## Quickstart");
  return block;
}

/** Replaces `from` by `to` exactly once, so the README cannot drift away from what is run. */
function once(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`expected "${from}" once in the quickstart`);
  return text.replace(from, to);
}

describe("the packed packages in an empty npm project", () => {
  let packed: Packed;
  let project: string;
  beforeAll(async () => {
    packed = packAll();
    project = join(packed.dir, "app");
    mkdirSync(project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "smoke", private: true, type: "module" }));
    // The only third-party packages fetched are what the tarballs and the quickstart need.
    await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", packed.tarballs.sdk, packed.tarballs.adapters, "bullmq@^6", "ioredis@^6"], { cwd: project });
  }, 300_000);
  afterAll(() => packed?.remove());

  it("installed both packages from the tarballs, the adapters' @quiesce/sdk dependency included", () => {
    const lock = JSON.parse(readFileSync(join(project, "package-lock.json"), "utf8")) as { packages: Record<string, { resolved?: string }> };
    expect(lock.packages["node_modules/@quiesce/sdk"]?.resolved).toMatch(/^file:.*\.tgz$/);
    expect(lock.packages["node_modules/@quiesce/adapters"]?.resolved).toMatch(/^file:.*\.tgz$/);
    expect(Object.keys(lock.packages).filter((k) => k.endsWith("/@quiesce/sdk"))).toEqual(["node_modules/@quiesce/sdk"]);
  });

  it("the package README's Quickstart is the repository README's", () => {
    const sdk = quickstart(readFileSync(join(repoRoot, "packages/sdk/README.md"), "utf8"));
    expect(quickstart(readFileSync(join(repoRoot, "README.md"), "utf8"))).toBe(sdk);
  });

  it("runs the Quickstart as written: jobs done, /status answers, SIGTERM exits 0", async () => {
    const { port } = servers().redis;
    const queueName = uniqueName("smoke");
    const httpPort = await freePort();
    const effects = join(project, "effects.log");
    let code = quickstart(readFileSync(join(repoRoot, "packages/sdk/README.md"), "utf8"));
    code = once(code, 'queue: "emails"', `queue: ${JSON.stringify(queueName)}`);
    code = once(code, "port: 6379", `port: ${port}`);
    // The one thing the quickstart leaves to the reader.
    code += `\nasync function sendEmail(payload, { signal }) {\n  signal.throwIfAborted();\n  (await import("node:fs")).appendFileSync(${JSON.stringify(effects)}, JSON.stringify(payload) + "\\n");\n}\n`;
    const script = join(project, "quickstart.mjs");
    writeFileSync(script, code);

    const worker = spawnWorker(script, { cwd: project, env: { QUIESCE_HTTP_PORT: String(httpPort), QUIESCE_LOG_LEVEL: "warn", POD_NAME: undefined, POD_NAMESPACE: undefined, KUBERNETES_SERVICE_HOST: undefined } });
    const queue = new Queue(queueName, { connection: { host: "127.0.0.1", port } });
    try {
      await queue.addBulk([1, 2, 3].map((n) => ({ name: "email", data: { to: `user${n}@example.com` } })));
      await pollUntil(
        () => {
          try {
            return readFileSync(effects, "utf8").trim().split("\n").length === 3;
          } catch {
            return false;
          }
        },
        { timeoutMs: 20_000, message: "3 emails sent by the quickstart worker" },
      );
      const status = (await (await fetch(`http://127.0.0.1:${httpPort}/status`)).json()) as { state: string; completed: number };
      expect(status).toMatchObject({ state: "idle", completed: 3 });
      worker.signal("SIGTERM");
      const exit = await worker.waitForExit(20_000);
      expect(exit.code, exit.stderr).toBe(0);
    } finally {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
  });

  it("without bullmq installed, the Quickstart exits 1 at once with the install command (no retrying for QUIESCE_SOURCE_FAILURE_MS)", async () => {
    // A second project with the two tarballs only: the adapters' client libraries are optional peers.
    const bare = join(packed.dir, "app-without-peers");
    mkdirSync(bare);
    writeFileSync(join(bare, "package.json"), JSON.stringify({ name: "smoke-bare", private: true, type: "module" }));
    await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", packed.tarballs.sdk, packed.tarballs.adapters], { cwd: bare });
    const script = join(bare, "quickstart.mjs");
    writeFileSync(script, quickstart(readFileSync(join(repoRoot, "packages/sdk/README.md"), "utf8")) + "\nasync function sendEmail() {}\n");
    const startedAt = performance.now();
    // Ten minutes of retrying would be allowed: the exit must not wait for it.
    const worker = spawnWorker(script, { cwd: bare, env: { QUIESCE_HTTP_PORT: String(await freePort()), QUIESCE_SOURCE_FAILURE_MS: "600000", POD_NAME: undefined, POD_NAMESPACE: undefined, KUBERNETES_SERVICE_HOST: undefined } });
    const exit = await worker.waitForExit(30_000);
    expect(exit.code, exit.stderr).toBe(1);
    expect(exit.lastStderrLine).toMatch(/^quiesce: fatal: .*bullmq.*npm install bullmq@/);
    expect(exit.stderr).not.toContain("retrying");
    expect(performance.now() - startedAt).toBeLessThan(20_000);
  }, 120_000);

  it("installs the quiesce bin", async () => {
    const { stdout } = await run(join(project, "node_modules", ".bin", "quiesce"), ["--help"], { cwd: project });
    expect(stdout).toMatch(/^usage: quiesce <command>/);
  });
});
