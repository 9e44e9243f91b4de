import type { Delivery, MemorySource, Source } from "@quiesce/sdk";

/**
 * One pod's connection to the shared queue. `kill()` is what SIGKILL does to a process: from then
 * on nothing it does reaches the queue (no ack, no release, no lease renewal), so what it held comes
 * back only when its lease runs out. `pause()` and `stop()` end this pod's fetching, never the
 * queue's: the other pods keep using it.
 */
export interface PodSource extends Source {
  kill(): void;
  readonly killed: AbortSignal;
}

export function podSource(queue: MemorySource): PodSource {
  const killed = new AbortController();
  const paused = new AbortController();
  const dead = (): boolean => killed.signal.aborted;
  const wrap = (d: Delivery): Delivery => ({
    id: d.id,
    payload: d.payload,
    attempt: d.attempt,
    extend: (ms) => (dead() ? Promise.resolve() : d.extend(ms)),
    ack: (result) => (dead() ? Promise.resolve() : d.ack(result)),
    release: (options) => (dead() ? Promise.resolve() : d.release(options)),
    fail: (error) => (dead() ? Promise.resolve() : d.fail(error)),
  });
  return {
    name: queue.name,
    leaseMs: queue.leaseMs,
    killed: killed.signal,
    kill: () => killed.abort(),
    start: async () => undefined,
    async receive(max, signal) {
      if (!dead() && !paused.signal.aborted) {
        const got = await queue.receive(max, AbortSignal.any([signal, paused.signal, killed.signal]));
        // Delivered to a process that died meanwhile: the queue holds the lease until it expires.
        if (!dead()) return got.map(wrap);
      }
      // A dead or stopped connection answers nothing: only when the caller gives up, never in a spin.
      if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
      return [];
    },
    pause: async () => paused.abort(),
    depth: () => queue.depth(),
    stop: async () => paused.abort(),
  };
}
