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
    expect(j.abort.signal.aborted).toBe(true);
    expect(j.abort.signal.reason).toBe(reason);
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
