// @servers none
// The real worker (the built @quiesce/sdk, in process) with the Kubernetes integration against the
// fake API server: what a pod's annotations look like while it works.
import { setTimeout as sleep } from "node:timers/promises";
import { createMemorySource, createWorker, type Logger } from "@quiesce/sdk";
import { describe, expect, it, type TestContext } from "vitest";
import { KubeApiFake } from "../harness/k8s-fake.js";
import { pollUntil } from "../harness/poll-until.js";
import { uniqueName } from "../harness/unique.js";
import { recordingLogger } from "./pod-driver.js";

const NS = "jobs";
const STATE = "quiesce.dev/state";

async function setup(onTestFinished: TestContext["onTestFinished"], pod: { annotations?: Record<string, string> } = {}) {
  const fake = await KubeApiFake.start();
  onTestFinished(() => fake.close());
  const name = uniqueName("w");
  fake.addPod({ namespace: NS, name, ...pod });
  return { fake, name, kubeconfig: fake.writeKubeconfig() };
}

function worker(name: string, kubeconfig: string, jobs: number, jobMs: number, logger: Logger) {
  const source = createMemorySource({ pollMs: 20 });
  for (let i = 0; i < jobs; i++) source.add({ i });
  let completed = 0;
  const w = createWorker({
    source,
    concurrency: 1,
    http: false,
    exit: false,
    handleSignals: false,
    logger,
    kubernetes: { podName: name, namespace: NS, kubeconfig, busyAfterMs: 2000 },
    async handler() {
      await sleep(jobMs);
      completed++;
    },
  });
  return { w, completed: () => completed };
}

describe.concurrent("the real worker's pod annotations", () => {
  it("10 s of back-to-back 50 ms jobs: busy written once, idle once", async ({ onTestFinished }) => {
    const { fake, name, kubeconfig } = await setup(onTestFinished, { annotations: { [STATE]: "idle" } });
    const { w, completed } = worker(name, kubeconfig, 200, 50, recordingLogger());
    await w.start();
    const t0 = Date.now();
    await pollUntil(() => completed() === 200, { timeoutMs: 20_000, intervalMs: 50, message: "200 jobs" });
    const ended = Date.now();
    await pollUntil(() => fake.annotations(NS, name)[STATE] === "idle" && fake.patches().length === 2, { timeoutMs: 5000, message: "idle written" });
    await sleep(1200);
    await w.drain();
    const states = fake.patches().map((p) => (p.body as { metadata: { annotations: Record<string, string> } }).metadata.annotations[STATE]);
    // The drain adds its own mark.
    expect(states).toEqual(["busy", "idle", "draining"]);
    const [busy, idle] = fake.patches();
    expect(busy!.at - t0).toBeGreaterThanOrEqual(1900);
    expect(busy!.at - t0).toBeLessThan(3000);
    expect(idle!.at - ended).toBeLessThan(1500);
    console.log(`real worker, 200 × 50 ms jobs in ${ended - t0} ms: busy at +${busy!.at - t0} ms, idle ${idle!.at - ended} ms after the last job`);
  }, 30_000);

  it("403 from the API server: one warning, every job still completes at full speed", async ({ onTestFinished }) => {
    const { fake, name, kubeconfig } = await setup(onTestFinished);
    fake.fault({ status: 403 }, { methods: ["PATCH"] });
    const logger = recordingLogger();
    const { w, completed } = worker(name, kubeconfig, 60, 25, logger);
    await w.start();
    const t0 = Date.now();
    await pollUntil(() => completed() === 60, { timeoutMs: 10_000, message: "60 jobs" });
    const took = Date.now() - t0;
    const report = await w.drain();
    expect(report).toMatchObject({ exitCode: 0, completed: 60, failed: 0 });
    expect(logger.lines.filter((l) => l.level === "warn")).toHaveLength(1);
    expect(fake.patches()).toHaveLength(1);
    expect(took).toBeLessThan(60 * 25 * 1.5);
  }, 30_000);
});
