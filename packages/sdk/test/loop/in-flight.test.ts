import { describe, expect, it } from "vitest";
import { InFlight } from "../../src/loop/in-flight.js";
import { Job } from "../../src/loop/job.js";
import { scriptedDelivery } from "./scripted-delivery.js";

function job(id: string, startedAt = 0): Job {
  const made = new Job(scriptedDelivery(id).delivery, 1000, 1);
  made.startedAt = startedAt;
  return made;
}

const ids = (jobs: Iterable<Job>): string[] => [...jobs].map((j) => j.delivery.id).sort();

describe("InFlight", () => {
  it("holds each job once and removes it once, in any order", () => {
    const inFlight = new InFlight();
    const [a, b, c, d] = ["a", "b", "c", "d"].map((id) => job(id, 1)) as [Job, Job, Job, Job];
    for (const j of [a, b, c, d]) {
      inFlight.add(j);
      inFlight.markStarted();
    }
    inFlight.add(b);
    expect(inFlight.held).toBe(4);
    expect(inFlight.delete(b)).toBe(true);
    expect(inFlight.delete(b)).toBe(false);
    expect(ids(inFlight.values())).toEqual(["a", "c", "d"]);
    expect(inFlight.delete(d)).toBe(true);
    expect(inFlight.delete(a)).toBe(true);
    expect(ids(inFlight.values())).toEqual(["c"]);
    expect(inFlight.running).toBe(1);
    expect(inFlight.delete(c)).toBe(true);
    expect([inFlight.held, inFlight.running]).toEqual([0, 0]);
  });

  it("values() is a copy: removing jobs while walking it visits every job held at the start", () => {
    const inFlight = new InFlight();
    const jobs = ["a", "b", "c"].map((id) => job(id));
    for (const j of jobs) inFlight.add(j);
    const seen: string[] = [];
    for (const j of inFlight.values()) {
      seen.push(j.delivery.id);
      inFlight.delete(j);
      if (j === jobs[0]) inFlight.delete(jobs[2] as Job);
    }
    expect(seen.sort()).toEqual(["a", "b", "c"]);
    expect(inFlight.held).toBe(0);
  });

  it("oldestStart is the earliest start among started jobs, whatever the removal order moved", () => {
    const inFlight = new InFlight();
    const early = job("early", 100);
    const unstarted = job("unstarted");
    const late = job("late", 300);
    const middle = job("middle", 200);
    for (const j of [early, unstarted, late, middle]) inFlight.add(j);
    expect(inFlight.oldestStart()).toBe(100);
    inFlight.delete(early);
    expect(inFlight.oldestStart()).toBe(200);
    inFlight.delete(middle);
    inFlight.delete(late);
    expect(inFlight.oldestStart()).toBeNull();
  });

  it("nextRemoval resolves on a removal or a wake, one promise for every waiter of the same removal", async () => {
    const inFlight = new InFlight();
    const a = job("a");
    inFlight.add(a);
    const first = inFlight.nextRemoval();
    expect(inFlight.nextRemoval()).toBe(first);
    inFlight.delete(a);
    await first;
    const second = inFlight.nextRemoval();
    expect(second).not.toBe(first);
    inFlight.wake();
    await second;
    inFlight.add(job("b"));
    let emptied = false;
    const empty = inFlight.waitForEmpty().then(() => (emptied = true));
    await Promise.resolve();
    expect(emptied).toBe(false);
    inFlight.delete([...inFlight.values()][0] as Job);
    await empty;
    expect(emptied).toBe(true);
  });
});
