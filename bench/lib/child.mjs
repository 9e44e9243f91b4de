/**
 * Child processes for the process benches (shutdown, cold start, RSS): every child is killed if
 * the bench ends early; probes open a fresh connection each time, as the kubelet does; the port
 * comes from the worker's own "http server listening" log line.
 */
import http from "node:http";
import { performance } from "node:perf_hooks";

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every child still alive; killed if this process ends early. */
const live = new Set();
function killAll() {
  for (const child of live) child.kill("SIGKILL");
}
process.on("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

export function track(child) {
  live.add(child);
  const exited = new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolve({ code, signal, at: performance.now() });
    });
  });
  return exited;
}

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** GET path on 127.0.0.1:port on a fresh connection; resolves with the status code, or 0 if the connection failed. */
export function probe(port, path) {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent: false, headers: { connection: "close" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", () => resolve(0));
    req.setTimeout(2_000, () => req.destroy());
  });
}

/** Resolves with the port from the worker's JSON log line "http server listening". */
export function listeningPort(child) {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const onData = (chunk) => {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        let record;
        try {
          record = JSON.parse(line);
        } catch {
          continue;
        }
        if (record.msg === "http server listening" && Number.isInteger(record.port)) {
          child.stderr.off("data", onData);
          child.stderr.resume();
          resolve(record.port);
          return;
        }
      }
    };
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`worker exited (${code}) before listening: ${buffered.slice(0, 500)}`)));
  });
}

