import { withGlobal } from "@sinonjs/fake-timers";

type InstalledClock = ReturnType<ReturnType<typeof withGlobal>["install"]>;

/**
 * Virtual time for the whole process: every `setTimeout`, `setImmediate`, `Date` and
 * `performance.now` the workers (and the SDK inside them) use runs on one fake clock, so a
 * ten-minute scale-down story takes a second or two, the same seed gives the same story, and no
 * timing has to be scaled down: a 2 s busy mark is 2 s of virtual time. Between two timers the
 * clock lets every promise chain settle (one real macrotask turn), as the real event loop would.
 */
export interface VirtualClock {
  now(): number;
  /**
   * Run timers in order until `done()` or `untilMs` (virtual epoch ms). `speed` paces it: that many
   * virtual ms per real ms (Infinity: as fast as it goes). `tick` is called about once a real second.
   */
  run(options: RunOptions): Promise<void>;
  uninstall(): void;
}

export interface RunOptions {
  readonly untilMs: number;
  readonly done?: () => boolean;
  readonly speed?: number;
  readonly tick?: () => void;
}

/** The virtual epoch every run starts at: fixed, so timestamps in the output repeat too. */
export const EPOCH_MS = Date.UTC(2026, 0, 1, 12, 0, 0);

export function installVirtualClock(startMs = EPOCH_MS): VirtualClock {
  // Captured before the install: these stay real and drive the loop from outside.
  const realImmediate = globalThis.setImmediate;
  const realTimeout = globalThis.setTimeout;
  const realNow = performance.now.bind(performance);
  const turn = (): Promise<void> => new Promise((resolve) => realImmediate(resolve));
  const clock: InstalledClock = withGlobal(globalThis).install({
    now: startMs,
    toFake: ["setTimeout", "clearTimeout", "setImmediate", "clearImmediate", "setInterval", "clearInterval", "Date", "performance"],
    loopLimit: 10_000_000,
    shouldClearNativeTimers: true,
  });
  let installed = true;

  /** Fire timers one at a time up to virtual `target` (or until done); false when nothing is left to run. */
  const advanceTo = async (target: number, done: () => boolean): Promise<boolean> => {
    let reached = false;
    const marker = clock.setTimeout(() => (reached = true), Math.max(0, target - clock.now));
    while (!reached && !done()) {
      clock.next();
      await turn();
    }
    if (!reached) clock.clearTimeout(marker);
    return clock.countTimers() > 0;
  };

  return {
    now: () => clock.now,
    async run({ untilMs, done = () => false, speed = Infinity, tick }) {
      await turn();
      if (!Number.isFinite(speed)) {
        await advanceTo(untilMs, done);
        return;
      }
      const realStart = realNow();
      const virtualStart = clock.now;
      let lastTick = realStart;
      while (!done() && clock.now < untilMs) {
        const target = Math.min(untilMs, virtualStart + (realNow() - realStart) * speed + 1);
        if (!(await advanceTo(target, done))) break;
        if (tick && realNow() - lastTick >= 1000) {
          lastTick = realNow();
          tick();
        }
        await new Promise((resolve) => realTimeout(resolve, 20));
      }
    },
    uninstall() {
      if (!installed) return;
      installed = false;
      clock.uninstall();
    },
  };
}
