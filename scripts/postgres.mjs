#!/usr/bin/env node
/**
 * An ephemeral PostgreSQL like the test harness's (test/harness/postgres.ts): initdb in a temp dir,
 * superuser `postgres` with trust auth, 127.0.0.1 on a free port, fsync off, removed on stop. As
 * root it runs as the `postgres` OS user (PostgreSQL refuses root). For the examples and benches,
 * which run without vitest.
 *
 *   node scripts/postgres.mjs          # prints DATABASE_URL=..., runs until Ctrl-C, then stops and cleans up
 *   PG_PORT=15432 node scripts/postgres.mjs
 *   import { startPostgres } from "../scripts/postgres.mjs"   // { url, port, dir, stop() }
 */
import { execFileSync, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, connect } from "node:net";
import os from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

function binDir() {
  if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR;
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => join(root, v, "bin")).find((dir) => existsSync(join(dir, "initdb")));
  if (!found) throw new Error("PostgreSQL server not installed: apt-get install -y --no-install-recommends postgresql-15 (or set PG_BIN_DIR)");
  return found;
}

function runAs() {
  if (process.getuid?.() !== 0) return {};
  const find = () => readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("postgres:"));
  if (!find()) execFileSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"]);
  const [, , uid, gid] = find().split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer().unref().on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/**
 * Ready means it authenticates a session: a StartupMessage answered with an Authentication ('R')
 * message, not an ErrorResponse ('E', "the database system is starting up") nor a refused connect.
 */
const ready = (port) =>
  new Promise((resolve) => {
    const params = Buffer.from("user\0postgres\0database\0postgres\0\0");
    const head = Buffer.alloc(8);
    head.writeInt32BE(8 + params.length, 0);
    head.writeInt32BE(196_608, 4); // protocol 3.0
    const socket = connect({ host: "127.0.0.1", port }, () => socket.write(Buffer.concat([head, params])));
    socket.once("data", (chunk) => {
      resolve(chunk[0] === 0x52);
      socket.destroy();
    });
    socket.once("error", () => resolve(false));
    socket.once("close", () => resolve(false));
  });

/** Start a throwaway server; `settings` become `-c name=value`. Resolves once it accepts connections. */
export async function startPostgres({ port, settings = {} } = {}) {
  const bin = binDir();
  const as = runAs();
  const dir = mkdtempSync(join(os.tmpdir(), "quiesce-postgres-"));
  if (as.uid !== undefined) chownSync(dir, as.uid, as.gid);
  const data = join(dir, "data");
  execFileSync(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"], { stdio: "ignore", ...as });
  const p = port ?? (await freePort());
  const all = { listen_addresses: "127.0.0.1", fsync: "off", synchronous_commit: "off", full_page_writes: "off", ...settings };
  const args = ["-D", data, "-p", String(p), "-k", dir, ...Object.entries(all).flatMap(([k, v]) => ["-c", `${k}=${v}`])];
  const child = spawn(join(bin, "postgres"), args, { stdio: ["ignore", "ignore", "pipe"], ...as });
  let log = "";
  child.stderr.on("data", (chunk) => (log = (log + chunk).slice(-4000)));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const giveUp = Date.now() + 30_000;
  while (!(await ready(p))) {
    if (child.exitCode !== null || Date.now() > giveUp) {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`postgres did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = `postgres://postgres@127.0.0.1:${p}/postgres`;
  let stopping;
  const stop = () =>
    (stopping ??= (async () => {
      child.kill("SIGINT"); // fast shutdown: roll back and exit
      await exited;
      rmSync(dir, { recursive: true, force: true });
    })());
  return { url, port: p, dir, pid: child.pid, stop };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const server = await startPostgres(process.env.PG_PORT ? { port: Number(process.env.PG_PORT) } : {});
  process.stdout.write(`DATABASE_URL=${server.url}\n`);
  process.stderr.write(`postgres running (pid ${server.pid}, dir ${server.dir}); Ctrl-C stops it and removes its data\n`);
  const onSignal = () => void server.stop().then(() => process.exit(0));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
}
