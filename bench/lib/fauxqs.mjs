/**
 * A private SQS emulator for a bench: test/harness/fauxqs-server.mjs in its own Node process on a
 * free loopback port, stopped by the caller (and killed if the bench exits first).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "./ports.mjs";

/** Starts fauxqs and waits for its "listening" line; resolves with `{ port, endpoint, stop() }`. */
export async function startFauxqs() {
  const port = await freePort();
  const launcher = fileURLToPath(new URL("../../test/harness/fauxqs-server.mjs", import.meta.url));
  const child = spawn(process.execPath, [launcher, String(port)], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.once("exit", () => child.kill("SIGKILL"));
  await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (out.includes(`fauxqs listening on 127.0.0.1:${port}`)) resolve();
    });
    child.once("exit", (code) => reject(new Error(`fauxqs exited with ${code} before listening`)));
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  return { port, endpoint: `http://127.0.0.1:${port}`, stop };
}

/** The SQS client settings for the emulator (any credentials; queue URLs not used as endpoints). */
export function fauxqsClientConfig(endpoint) {
  return { endpoint, region: "us-east-1", credentials: { accessKeyId: "bench", secretAccessKey: "bench" }, useQueueUrlAsEndpoint: false };
}
