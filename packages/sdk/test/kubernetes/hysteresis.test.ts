import { describe, expect, it } from "vitest";
import { COST_STEP_MS } from "../../src/kubernetes/annotations.js";
import { BusyHysteresis } from "../../src/kubernetes/hysteresis.js";

const opts = { busyAfterMs: 2000, quietMs: 400 };

/** Drive the machine like the worker would, with a clock we own; returns every distinct reading in order. */
function run(h: BusyHysteresis, script: Array<[at: number, state: "busy" | "idle" | "draining"]>, until: number) {
  const seen: Array<{ at: number; phase: string; cost: number }> = [];
  const note = (at: number) => {
    const r = h.read(at);
    const last = seen.at(-1);
    if (!last || last.phase !== r.phase || last.cost !== r.cost) seen.push({ at, ...r });
  };
  let i = 0;
  let now = 0;
  note(0);
  while (now <= until) {
    // Next event: a scripted flip or a wake-up the machine asked for, whichever is first.
    const wake = h.nextChangeAt(now) ?? Infinity;
    const next = Math.min(script[i]?.[0] ?? Infinity, wake, until + 1);
    now = Math.max(now, next);
    if (now > until) break;
    while (script[i] && script[i]![0] <= now) h.observe(script[i++]![1], script[i - 1]![0]);
    note(now);
    if (wake <= now && i >= script.length && h.nextChangeAt(now) === undefined) break;
  }
  return seen;
}

function backToBack(fromMs: number, toMs: number, jobMs: number, gapMs: number) {
  const script: Array<[number, "busy" | "idle"]> = [];
  for (let t = fromMs; t < toMs; t += jobMs + gapMs) script.push([t, "busy"], [t + jobMs, "idle"]);
  return script;
}

describe("BusyHysteresis", () => {
  it("starts idle", () => {
    expect(new BusyHysteresis(opts).read(0)).toEqual({ phase: "idle", cost: 0 });
  });

  it("a short job is never reported", () => {
    const h = new BusyHysteresis(opts);
    expect(run(h, [[100, "busy"], [150, "idle"]], 10_000)).toEqual([{ at: 0, phase: "idle", cost: 0 }]);
  });

  it("a job that ends just before the mark is not promoted inside the quiet tail", () => {
    const h = new BusyHysteresis(opts);
    expect(run(h, [[0, "busy"], [1900, "idle"]], 5000).map((s) => s.phase)).toEqual(["idle"]);
  });

  it("10 s of back-to-back 50 ms jobs: busy once at the mark, idle once a quiet spell after the last", () => {
    const h = new BusyHysteresis(opts);
    const script = backToBack(1000, 11_000, 50, 2);
    const seen = run(h, script, 20_000);
    expect(seen).toEqual([
      { at: 0, phase: "idle", cost: 0 },
      { at: expect.closeTo(3000, -2) as number, phase: "busy", cost: 1 },
      { at: expect.closeTo(11_000 + 400, -2) as number, phase: "idle", cost: 0 },
    ]);
  });

  it("gaps shorter than the quiet spell keep one spell; a longer one ends it", () => {
    const h = new BusyHysteresis(opts);
    const seen = run(h, [[0, "busy"], [2500, "idle"], [2800, "busy"], [3000, "idle"], [3500, "busy"], [3600, "idle"]], 10_000);
    expect(seen.map((s) => [s.at, s.phase])).toEqual([
      [0, "idle"],
      [2000, "busy"],
      [3400, "idle"],
    ]);
  });

  it("the cost doubles with the spell (O(log T) changes for a long job)", () => {
    const h = new BusyHysteresis(opts);
    const seen = run(h, [[0, "busy"]], 16 * COST_STEP_MS);
    expect(seen.map((s) => [s.at, s.cost])).toEqual([
      [0, 0],
      [2000, 1],
      [COST_STEP_MS, 2],
      [2 * COST_STEP_MS, 4],
      [4 * COST_STEP_MS, 8],
      [8 * COST_STEP_MS, 16],
      [16 * COST_STEP_MS, 32],
    ]);
  });

  it("draining is reported at once and stays", () => {
    const h = new BusyHysteresis(opts);
    h.observe("busy", 0);
    h.observe("draining", 10);
    expect(h.read(10)).toEqual({ phase: "draining", cost: 0 });
    h.observe("idle", 20);
    expect(h.read(60_000).phase).toBe("draining");
    expect(h.nextChangeAt(60_000)).toBeUndefined();
  });

  it("busyAfterMs 0 reports busy with the first job", () => {
    const h = new BusyHysteresis({ busyAfterMs: 0, quietMs: 400 });
    h.observe("busy", 5);
    expect(h.read(5)).toEqual({ phase: "busy", cost: 1 });
  });

  it("a late timer still promotes a job that ran past the mark before it ended", () => {
    const h = new BusyHysteresis(opts);
    h.observe("busy", 0);
    // The wake-up at 2000 was late (event loop blocked); the job ended at 2500.
    h.observe("idle", 2500);
    expect(h.read(2600).phase).toBe("busy");
    expect(h.read(2900).phase).toBe("idle");
  });

  it("asks to be woken only when a reading can change", () => {
    const h = new BusyHysteresis(opts);
    expect(h.nextChangeAt(0)).toBeUndefined();
    h.observe("busy", 100);
    expect(h.nextChangeAt(100)).toBe(2100);
    h.observe("idle", 200);
    expect(h.nextChangeAt(200)).toBeUndefined(); // unpromoted: nothing to take back
    h.observe("busy", 300);
    expect(h.read(2100).phase).toBe("busy");
    expect(h.nextChangeAt(2100)).toBe(100 + COST_STEP_MS);
    h.observe("idle", 3000);
    expect(h.nextChangeAt(3000)).toBe(3400);
  });

  it("withdrawUnshown ends a spell whose busy mark never reached the pod when the job ends", () => {
    const h = new BusyHysteresis({ busyAfterMs: 0, quietMs: 400, withdrawUnshown: true });
    h.observe("busy", 0);
    h.observe("idle", 100, false);
    expect(h.read(100)).toEqual({ phase: "idle", cost: 0 });
    h.observe("busy", 200);
    h.observe("idle", 300, true); // shown: the quiet spell applies
    expect(h.read(300).phase).toBe("busy");
    expect(h.read(700).phase).toBe("idle");
  });

  it("without withdrawUnshown (the default) the quiet spell applies whether or not the mark was shown", () => {
    const h = new BusyHysteresis({ busyAfterMs: 0, quietMs: 400 });
    h.observe("busy", 0);
    h.observe("idle", 100, false);
    expect(h.read(100).phase).toBe("busy");
    expect(h.read(500).phase).toBe("idle");
  });

  it("flip() takes only switches that change no reading, and leaves the machine where observe() would", () => {
    // Two machines fed the same random flips: one through observe() alone, one the way the pod
    // integration feeds it (flip() first, observe() and read() only when flip() declines).
    let seed = 7;
    const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (const withdrawUnshown of [false, true]) {
      const tuning = { busyAfterMs: 50, quietMs: 20, costStepMs: 30, withdrawUnshown };
      const plain = new BusyHysteresis(tuning);
      const fast = new BusyHysteresis(tuning);
      let shown = fast.read(0);
      let now = 0;
      let state: "busy" | "idle" = "idle";
      let taken = 0;
      for (let step = 0; step < 20_000; step++) {
        // Mostly sub-millisecond gaps (a steady stream), now and then one past the quiet spell.
        now += random() < 0.05 ? 25 * random() : random();
        state = state === "idle" ? "busy" : "idle";
        plain.observe(state, now);
        if (fast.flip(state, now)) {
          taken++;
          expect(plain.read(now)).toEqual(shown);
        } else {
          fast.observe(state, now);
          shown = fast.read(now);
          expect(shown).toEqual(plain.read(now));
        }
        expect(fast.nextChangeAt(now)).toBe(plain.nextChangeAt(now));
      }
      // Most flips of a stream are the cheap kind (with withdrawUnshown, only the job starts).
      expect(taken).toBeGreaterThan(withdrawUnshown ? 8_000 : 16_000);
      fast.observe("draining", now);
      expect(fast.flip("busy", now + 1)).toBe(false);
    }
  });

  it("nextChangeAt() of a busy spell follows each cost step, whether or not read() was asked in between", () => {
    const h = new BusyHysteresis({ busyAfterMs: 0, quietMs: 400, costStepMs: 30 });
    h.observe("busy", 0);
    expect(h.nextChangeAt(0)).toBe(30);
    expect(h.nextChangeAt(10)).toBe(30);
    expect(h.nextChangeAt(31)).toBe(60);
    expect(h.flip("idle", 40)).toBe(true);
    expect(h.flip("busy", 41)).toBe(true);
    expect(h.nextChangeAt(61)).toBe(120);
    // The cost step at 120 is crossed: the flip declines and observe() takes it.
    expect(h.flip("idle", 125)).toBe(false);
    h.observe("idle", 125);
    expect(h.read(125)).toEqual({ phase: "busy", cost: 8 });
  });
});
