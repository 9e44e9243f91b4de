import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CheckpointStore } from "../source/checkpoint.js";
import type { Delivery } from "../source/source.js";
import { DELIVER_MS, PROMPT_MS, SLACK_MS, sessionPerTest, type ConformanceHarness, type ConformanceOptions } from "./source-conformance.js";

export interface CheckpointHarness extends ConformanceHarness {
  /** Whether the backend still holds a checkpoint for this message id (the "gone after ack" check). */
  checkpointLeft?(id: string): Promise<boolean>;
  /**
   * The message only carries a checkpoint on the copy a release re-publishes (RabbitMQ, SQS): a
   * lost lease gives the next holder what the message carried, never the lost run's checkpoints
   * (only a checkpoint store keeps those). @defaultValue false
   */
  readonly carriedOnRelease?: boolean;
}


function capable(delivery: Delivery): Required<Pick<Delivery, "checkpoint">> & Delivery {
  expect(typeof delivery.checkpoint, "delivery.checkpoint: this source keeps no checkpoints").toBe("function");
  return delivery as Required<Pick<Delivery, "checkpoint">> & Delivery;
}

/**
 * The checkpoint part of the source contract, for a source whose deliveries keep checkpoints
 * (`Delivery.checkpoint` / `lastCheckpoint`): the latest one comes back with the next delivery of
 * the message after a release and after a lost lease, and is gone once the message is acked or failed.
 */
export function describeCheckpointConformance(name: string, factory: () => Promise<CheckpointHarness>, options: ConformanceOptions = {}): void {
  const timeout = options.timeoutMs ?? 30_000;
  describe(`checkpoint conformance: ${name}`, () => {
    const session = sessionPerTest("describeCheckpointConformance", factory, timeout);

    it("a first delivery has no checkpoint; after a release the next one has the latest, at the same attempt", { timeout }, async () => {
      const s = session();
      await s.harness.publish({ job: "release" });
      const first = capable(await s.one(DELIVER_MS));
      expect(first.lastCheckpoint).toBeUndefined();
      await first.checkpoint('{"step":1}');
      await first.checkpoint('{"step":2}');
      await s.release(first);
      const second = await s.one(PROMPT_MS);
      expect(second.id).toBe(first.id);
      expect(second.lastCheckpoint).toBe('{"step":2}');
      if (s.caps.releaseKeepsAttempt) expect(second.attempt).toBe(first.attempt);
      await s.ack(second);
    });

    it("a checkpoint as large as the delivery's checkpointMaxBytes comes back intact after a release", { timeout }, async () => {
      const s = session();
      await s.harness.publish({ job: "large" });
      const first = capable(await s.one(DELIVER_MS));
      const bytes = first.checkpointMaxBytes ?? 1024 * 1024;
      // Multi-byte characters too: the bound counts UTF-8 bytes, not string length.
      const head = '{"s":"ü€","blob":"';
      const data = `${head}${"x".repeat(bytes - Buffer.byteLength(head) - 2)}"}`;
      expect(Buffer.byteLength(data)).toBe(bytes);
      await first.checkpoint(data);
      await s.release(first);
      const second = await s.one(PROMPT_MS);
      expect(second.id).toBe(first.id);
      expect(second.lastCheckpoint === data, `a ${bytes}-byte checkpoint came back ${second.lastCheckpoint === undefined ? "missing" : "changed"}`).toBe(true);
      await s.ack(second);
    });

    it("a lease that ran out keeps the checkpoint for the next holder (or, carried on release only, what the message carried)", { timeout }, async () => {
      const s = session();
      if (!s.caps.leaseExpiry) return;
      await s.harness.publish({ job: "lost" });
      let first = capable(await s.one(DELIVER_MS));
      const carried = s.harness.carriedOnRelease === true;
      if (carried) {
        await first.checkpoint('{"step":6}');
        await s.release(first);
        first = capable(await s.one(PROMPT_MS));
      }
      await first.checkpoint('{"step":7}');
      await first.extend(s.caps.minLeaseMs);
      s.open.delete(first); // abandoned, as a SIGKILLed worker would leave it
      const second = await s.one(s.caps.minLeaseMs + SLACK_MS + DELIVER_MS);
      expect(second.id).toBe(first.id);
      expect(second.lastCheckpoint).toBe(carried ? '{"step":6}' : '{"step":7}');
      await expect(first.checkpoint('{"step":8}'), "the old holder may not overwrite it").rejects.toThrow();
      await s.ack(second);
    });

    it("an ack removes the checkpoint", { timeout }, async () => {
      const s = session();
      await s.harness.publish({ job: "ack" });
      const delivery = capable(await s.one(DELIVER_MS));
      await delivery.checkpoint('{"step":3}');
      const left = s.harness.checkpointLeft?.bind(s.harness);
      if (left) expect(await left(delivery.id)).toBe(true);
      await s.ack(delivery);
      if (left) expect(await left(delivery.id)).toBe(false);
      await expect(delivery.checkpoint('{"step":4}'), "checkpoint after ack").rejects.toThrow();
    });

    it("a failure drops the checkpoint, also one a release carried over: the retry starts from zero", { timeout }, async () => {
      const s = session();
      if (s.caps.maxAttempts < 2) return;
      await s.harness.publish({ job: "fail" });
      const first = capable(await s.one(DELIVER_MS));
      await first.checkpoint('{"step":5}');
      await s.release(first);
      const second = capable(await s.one(PROMPT_MS));
      expect(second.lastCheckpoint).toBe('{"step":5}');
      await second.checkpoint('{"step":6}');
      await s.fail(second, new Error("conformance: fail once"));
      const retry = await s.one(DELIVER_MS + SLACK_MS);
      expect(retry.id).toBe(first.id);
      expect(retry.lastCheckpoint).toBeUndefined();
      expect(retry.attempt).toBeGreaterThan(second.attempt);
      await s.ack(retry);
    });
  });
}

/** The contract of a {@link CheckpointStore}: a fresh, empty key space per test. */
export function describeCheckpointStoreConformance(
  name: string,
  factory: () => Promise<{ readonly store: CheckpointStore; cleanup(): Promise<void> }>,
  options: ConformanceOptions = {},
): void {
  const timeout = options.timeoutMs ?? 30_000;
  describe(`checkpoint store conformance: ${name}`, () => {
    let made: { readonly store: CheckpointStore; cleanup(): Promise<void> } | undefined;
    const store = (): CheckpointStore => {
      if (!made) throw new Error("describeCheckpointStoreConformance: no store (did the factory fail?)");
      return made.store;
    };
    beforeEach(async () => {
      made = await factory();
    }, timeout);
    afterEach(async () => {
      await made?.cleanup();
      made = undefined;
    }, timeout);

    it("loads undefined for a key never saved, and deletes a missing key without error", { timeout }, async () => {
      expect(await store().load("q:never")).toBeUndefined();
      await store().delete("q:never");
    });

    it("loads what was saved last, per key, and nothing once deleted", { timeout }, async () => {
      await store().save("q:1", '{"a":1}');
      await store().save("q:1", '{"a":2}');
      await store().save("q:2", '{"b":"ü€😀"}');
      expect(await store().load("q:1")).toBe('{"a":2}');
      expect(await store().load("q:2")).toBe('{"b":"ü€😀"}');
      await store().delete("q:1");
      expect(await store().load("q:1")).toBeUndefined();
      expect(await store().load("q:2")).toBe('{"b":"ü€😀"}');
    });

    it("keeps a 512 KiB value intact", { timeout }, async () => {
      const big = JSON.stringify({ blob: "x".repeat(512 * 1024) });
      await store().save("q:big", big);
      expect(await store().load("q:big")).toBe(big);
    });
  });
}
