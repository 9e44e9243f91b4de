/**
 * The fake Kubernetes API server for benches: the very one the tests use
 * (test/harness/k8s-fake.ts), not a second copy. It runs in a child process, so its CPU is not
 * charged to the worker under test (as a real API server's would not be), and is driven over
 * IPC: addPod, requests (what one pod was sent, and the pod as it is now), close.
 *
 * The harness is TypeScript and the benches plain Node (20 has no type stripping), so the child
 * transpiles it once with the workspace's own `typescript` (types erased, nothing else changed).
 */
import { fork } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const harness = new URL("../../test/harness/k8s-fake.ts", import.meta.url);

/** Writes a kubeconfig for the fake (plain HTTP, a token user) into `dir`; returns its path. */
export function writeKubeconfig(dir, { port, token, namespace }) {
  const path = join(dir, "kubeconfig.yaml");
  // JSON is YAML; the shape test/harness/k8s-fake.ts writes.
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "fake", cluster: { server: `http://127.0.0.1:${port}`, "insecure-skip-tls-verify": true } }],
      users: [{ name: "fake", user: { token } }],
      contexts: [{ name: "fake", context: { cluster: "fake", user: "fake", namespace } }],
      "current-context": "fake",
    }),
  );
  return path;
}

/** Start the fake in a child process; resolves once it listens, with `port`, `pid`, `call(request)`, `close()` and `kill()`. */
export function startKubeApiFake({ token }) {
  const child = fork(fileURLToPath(import.meta.url), ["--child", token], { stdio: ["ignore", "ignore", "inherit", "ipc"], execArgv: [] });
  const pending = new Map();
  let seq = 0;
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      for (const { reject: fail } of pending.values()) fail(new Error(`fake API server exited (${code ?? signal})`));
      reject(new Error(`fake API server exited before listening (${code ?? signal})`));
    });
    child.on("message", (msg) => {
      if (msg.op === "listening") {
        resolve({
          port: msg.port,
          pid: child.pid,
          call: (request) =>
            new Promise((res, rej) => {
              const id = ++seq;
              pending.set(id, { resolve: res, reject: rej });
              child.send({ ...request, id });
            }),
          close: () =>
            new Promise((res) => {
              if (child.exitCode !== null || child.signalCode !== null) return res();
              child.once("exit", () => res());
              child.send({ op: "close" });
            }),
          kill: () => {
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
          },
        });
      } else if (msg.op === "reply") {
        const waiter = pending.get(msg.id);
        pending.delete(msg.id);
        waiter?.resolve(msg);
      }
    });
  });
}

async function loadHarness() {
  const { default: ts } = await import("typescript");
  const { outputText } = ts.transpileModule(readFileSync(harness, "utf8"), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    fileName: fileURLToPath(harness),
  });
  const dir = mkdtempSync(join(os.tmpdir(), "quiesce-bench-fake-"));
  const file = join(dir, "k8s-fake.mjs");
  writeFileSync(file, outputText);
  try {
    return await import(pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function child(token) {
  const { KubeApiFake } = await loadHarness();
  const fake = await KubeApiFake.start({ token });
  process.on("message", async (msg) => {
    if (msg.op === "addPod") {
      fake.addPod({ namespace: msg.namespace, name: msg.name });
      process.send({ op: "reply", id: msg.id });
    } else if (msg.op === "requests") {
      const path = `/api/v1/namespaces/${msg.namespace}/pods/${msg.name}`;
      const requests = fake.requests
        .filter((r) => r.path.split("?")[0] === path)
        .map(({ at, method, contentType, body, status }) => ({ at, method, contentType, body, status }));
      process.send({ op: "reply", id: msg.id, requests, pod: fake.pod(msg.namespace, msg.name) });
    } else if (msg.op === "close") {
      await fake.close();
      process.exit(0);
    }
  });
  // The parent went away (finished, crashed or killed): so do we.
  process.on("disconnect", () => process.exit(0));
  process.send({ op: "listening", port: Number(new URL(fake.url).port) });
}

if (process.argv[2] === "--child") await child(process.argv[3]);
