import { describe, expect, it } from "vitest";
import { Batcher, type EntryOutcome } from "../../src/sqs/batcher.js";

describe("Batcher", () => {
  it("sends what was added in one turn as one call, 10 a call, each caller with its own outcome", async () => {
    const calls: string[][] = [];
    const batcher = new Batcher<string>(async (entries) => {
      calls.push([...entries]);
      return entries.map((e): EntryOutcome => (e === "bad" ? { ok: false, code: "ReceiptHandleIsInvalid", message: "gone" } : { ok: true }));
    }, 10);
    const entries = [...Array.from({ length: 11 }, (_, i) => `h${i}`), "bad"];
    const outcomes = await Promise.all(entries.map((e) => batcher.add(e)));
    expect(calls.map((c) => c.length)).toEqual([10, 2]);
    expect(outcomes.at(-1)).toEqual({ ok: false, code: "ReceiptHandleIsInvalid", message: "gone" });
    expect(outcomes.slice(0, -1).every((o) => o.ok)).toBe(true);
  });

  it("a failed call rejects every entry in it; settled() waits for calls in flight", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const batcher = new Batcher<string>(async () => {
      await gate;
      throw new Error("throttled");
    }, 10);
    const both = Promise.allSettled([batcher.add("a"), batcher.add("b")]);
    let settled = false;
    const waiting = batcher.settled().then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    release();
    await waiting;
    expect((await both).map((r) => r.status)).toEqual(["rejected", "rejected"]);
  });

  it("an answer that leaves an entry out fails that entry", async () => {
    const batcher = new Batcher<string>(async () => [{ ok: true }], 10);
    const [a, b] = await Promise.all([batcher.add("a"), batcher.add("b")]);
    expect(a).toEqual({ ok: true });
    expect(b).toMatchObject({ ok: false, code: "MissingEntry" });
  });
});
