// A private redis-server for the benches that need one (REDIS_SERVER_BIN picks the binary).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.mjs";

/** A private redis-server on a free loopback port, no persistence; `Redis` is the ioredis class used to probe it. */
export async function startRedisServer(Redis) {
  const port = await freePort();
  const dir = mkdtempSync(join(os.tmpdir(), "quiesce-bench-redis-"));
  const binary = process.env.REDIS_SERVER_BIN ?? "redis-server";
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no"];
  const child = spawn(binary, args, { stdio: ["ignore", "ignore", "inherit"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", () => child.kill("SIGKILL"));
  const probe = new Redis({ host: "127.0.0.1", port, lazyConnect: true, retryStrategy: () => null });
  probe.on("error", () => undefined);
  for (let i = 0; ; i++) {
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch (error) {
      if (i >= 200 || child.exitCode !== null) {
        await stop();
        throw new Error(`redis-server did not start on port ${port}: ${error.message}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  probe.disconnect();
  return { port, stop };
}

