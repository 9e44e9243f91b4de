import { createMemorySource, createWorker } from "@quiesce/sdk";
import { installVirtualClock } from "./clock.js";
import { seeded } from "./random.js";
import { World, type WorldOptions, type WorldResult } from "./world.js";

export interface RunWorldsOptions {
  /** Virtual ms per real ms; Infinity (the default) runs as fast as it goes. */
  readonly speed?: number;
  /** Called about once a real second while paced, with the worlds. */
  readonly tick?: (worlds: readonly World[]) => void;
}

/**
 * Run several worlds side by side on one virtual clock and return their results in order. The
 * clock is installed for the call and removed afterwards, so nothing else in the process (a test
 * runner) keeps fake time.
 */
export async function runWorlds(options: readonly WorldOptions[], run: RunWorldsOptions = {}): Promise<WorldResult[]> {
  await warmUp();
  const clock = installVirtualClock();
  // The reporter's write jitter draws from Math.random: seeded too, the same story repeats exactly.
  const random = Math.random;
  Math.random = seeded(options.reduce((h, o) => h * 31 + o.scenario.seed, 17) >>> 0).fork("jitter").next;
  try {
    const worlds = options.map((o) => new World(o));
    await Promise.all(worlds.map((w) => w.start()));
    const horizon = Math.max(...worlds.map((w) => w.plan.endMs + (w.options.settleMs ?? 120_000))) + 60_000;
    await clock.run({
      untilMs: clock.now() + horizon,
      done: () => worlds.every((w) => w.done),
      ...(run.speed === undefined ? {} : { speed: run.speed }),
      ...(run.tick === undefined ? {} : { tick: () => run.tick?.(worlds) }),
    });
    return worlds.map((w) => w.result());
  } finally {
    Math.random = random;
    clock.uninstall();
  }
}

/**
 * The worker loads its Kubernetes part with a dynamic import, which reads files in real time: left
 * to happen under the virtual clock, it would land at a virtual moment that depends on the disk.
 * One worker started and drained in real time first puts the module in the cache, from where an
 * import resolves within the same turn.
 */
async function warmUp(): Promise<void> {
  const pod = { annotations: {}, terminationGracePeriodSeconds: 1, deletionTimestamp: undefined, resourceVersion: "1" };
  const worker = createWorker({
    source: createMemorySource(),
    handler: () => undefined,
    http: false,
    kubernetes: { podName: "warm-up", namespace: "demo", podApi: { read: async () => pod, patchAnnotations: async () => pod } },
  });
  await worker.start();
  await worker.drain("warm-up");
}
