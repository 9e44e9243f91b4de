import { describe, expect, it } from "vitest";
import { DrainDeadlineError } from "../../src/errors.js";
import { Job } from "../../src/loop/job.js";
import { scriptedDelivery } from "./scripted-delivery.js";

const job = () => new Job(scriptedDelivery("d1").delivery, 1000, Date.now());

describe("stopping a job", () => {
  it("aborts ctx.signal and tells every onStop listener once, with the reason", () => {
    const j = job();
    const heard: Error[] = [];
    j.onStop((reason) => heard.push(reason));
    j.onStop((reason) => heard.push(reason));
    const reason = new DrainDeadlineError("deadline");
    j.stop(reason);
    j.stop(new Error("second"));
    expect(heard).toEqual([reason, reason]);
    expect(j.signal.aborted).toBe(true);
    expect(j.signal.reason).toBe(reason);
  });

  it("ctx.signal is made on first read, and one read before the stop is the one aborted", () => {
    const j = job();
    const early = j.signal;
    expect(j.signal).toBe(early);
    expect(early.aborted).toBe(false);
    const reason = new Error("lease lost");
    j.stop(reason);
    expect(early.aborted).toBe(true);
    expect(early.reason).toBe(reason);
  });

  it("a listener added after the stop hears it at once; an unsubscribed one never does", () => {
    const j = job();
    const heard: string[] = [];
    const off = j.onStop(() => heard.push("early"));
    off();
    j.stop(new Error("stop"));
    j.onStop((reason) => heard.push(`late: ${reason.message}`));
    expect(heard).toEqual(["late: stop"]);
  });
});
