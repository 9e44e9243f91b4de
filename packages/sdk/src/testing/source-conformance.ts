import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LeaseLostError } from "../errors.js";
import type { Delivery, QueueDepth, ReleaseOptions, Source } from "../source/source.js";
import { pollUntil } from "./poll-until.js";

export interface PublishOptions {
  /** Make the message visible only after this many ms. */
  readonly delayMs?: number;
}

export interface ConformanceCapabilities {
  /** An unrenewed lease runs out and the message comes back (false for RabbitMQ: no per-message lease). @defaultValue true */
  readonly leaseExpiry?: boolean;
  /** `release()` keeps `attempt` as it was (false for SQS, whose attempt is the receive count). @defaultValue true */
  readonly releaseKeepsAttempt?: boolean;
  /** The retry policy the harness gave the source. Absent: a failed message is never redelivered. */
  readonly retries?: { readonly maxAttempts: number };
  /** Shortest lease `extend(ms)` honours, in ms (SQS visibility counts whole seconds). @defaultValue 300 */
  readonly minLeaseMs?: number;
  /** Read what the backend dead-lettered, to check that exhausted messages land there. */
  readonly deadLetters?: () => Promise<unknown[]>;
}

/**
 * One fresh queue per test. Give the source its usual lease (longer than 2 s): the suite shortens
 * leases itself through `extend()` where a test needs a short one, so "released work comes back at
 * once" is told apart from "the lease ran out". Give it a long poll too (5 s or more), so the abort
 * test proves that an abort cuts the poll short.
 */
export interface ConformanceHarness {
  /** A source on a queue of its own, not started: the suite starts and stops it. */
  readonly source: Source;
  /** Put a message on that queue the way a producer would (not through the source). */
  publish(payload: unknown, options?: PublishOptions): Promise<void>;
  /** Delete the queue, close admin clients. Runs after the suite stopped the source, also when a test failed. */
  cleanup(): Promise<void>;
  readonly capabilities?: ConformanceCapabilities;
}

export interface ConformanceOptions {
  /** Per-test (and per-hook) timeout, in ms. @defaultValue 30000 */
  readonly timeoutMs?: number;
}

/** A published message reaches a receive within this. */
export const DELIVER_MS = 5_000;
/** "At once": a released message comes back, a pause wakes a pending receive. */
export const PROMPT_MS = 2_000;
/** receive() returns promptly once its signal aborts (a drain must not wait on a long poll). */
const ABORT_MS = 1_000;
/** Window in which nothing may arrive, for the checks that something is gone. */
const QUIET_MS = 500;
/** What a backend adds on top of a lease before it redelivers (a stalled-job check, a redrive). */
export const SLACK_MS = 3_000;
/** Timers may fire a little early against performance.now(). */
const SLOP_MS = 25;

/** One test's view of a harness: remembers what it holds, so a failing test still hands everything back. Shared with the checkpoint case. */
export class Session<H extends ConformanceHarness = ConformanceHarness> {
  readonly open = new Set<Delivery>();
  constructor(readonly harness: H) {}

  get source(): Source {
    return this.harness.source;
  }

  get caps(): { leaseExpiry: boolean; releaseKeepsAttempt: boolean; maxAttempts: number; minLeaseMs: number } {
    const c = this.harness.capabilities ?? {};
    return {
      leaseExpiry: c.leaseExpiry ?? true,
      releaseKeepsAttempt: c.releaseKeepsAttempt ?? true,
      maxAttempts: c.retries?.maxAttempts ?? 1,
      minLeaseMs: c.minLeaseMs ?? 300,
    };
  }

  /** One receive, cut off after `windowMs`. */
  async receive(max: number, windowMs: number): Promise<Delivery[]> {
    return this.track(max, await this.source.receive(max, AbortSignal.timeout(Math.max(1, Math.round(windowMs)))));
  }

  track(max: number, batch: Delivery[]): Delivery[] {
    expect(batch.length, `receive(${max}) returned ${batch.length} deliveries`).toBeLessThanOrEqual(max);
    for (const delivery of batch) this.open.add(delivery);
    return batch;
  }

  /** Receive (at most `max` at a time) until `count` deliveries came or `timeoutMs` passed. */
  async receiveUntil(count: number, timeoutMs: number, max = count): Promise<Delivery[]> {
    const got: Delivery[] = [];
    const deadline = performance.now() + timeoutMs;
    for (let left = timeoutMs; got.length < count && left > 0; left = deadline - performance.now()) {
      got.push(...(await this.receive(Math.min(max, count - got.length), left)));
    }
    return got;
  }

  async one(timeoutMs: number): Promise<Delivery> {
    const [delivery] = await this.receiveUntil(1, timeoutMs);
    if (!delivery) throw new Error(`no delivery within ${timeoutMs} ms`);
    return delivery;
  }

  async ack(delivery: Delivery): Promise<void> {
    await delivery.ack();
    this.open.delete(delivery);
  }

  async release(delivery: Delivery, options?: ReleaseOptions): Promise<void> {
    await delivery.release(options);
    this.open.delete(delivery);
  }

  async fail(delivery: Delivery, error: Error): Promise<void> {
    await delivery.fail(error);
    this.open.delete(delivery);
  }

  /** Poll depth() until it shows `expected`; a count the source leaves undefined is not checked. */
  async expectDepth(expected: Required<Pick<QueueDepth, "waiting" | "inFlight">>): Promise<void> {
    const { source } = this;
    if (!source.depth) return;
    const depth = source.depth.bind(source);
    await pollUntil(
      async () => {
        const actual = await depth();
        expect(actual.waiting).toBe(expected.waiting);
        if (actual.inFlight !== undefined) expect(actual.inFlight).toBe(expected.inFlight);
        return true;
      },
      { timeoutMs: DELIVER_MS, message: `depth ${JSON.stringify(expected)}` },
    );
  }

  /** Hand back whatever the test still holds (the contract: stop comes after every settle), then stop. */
  async close(): Promise<void> {
    for (const delivery of this.open) await delivery.release().catch(() => undefined);
    this.open.clear();
    await this.source.stop();
  }
}

/**
 * Inside a describe(): a fresh harness per test, its source started before and everything it
 * still holds handed back after, also when the test failed. Returns the current test's session.
 */
export function sessionPerTest<H extends ConformanceHarness>(suite: string, factory: () => Promise<H>, timeout: number): () => Session<H> {
  let current: Session<H> | undefined;
  beforeEach(async () => {
    current = new Session(await factory());
    await current.source.start();
  }, timeout);
  afterEach(async () => {
    const s = current;
    current = undefined;
    if (!s) return;
    try {
      await s.close();
    } finally {
      await s.harness.cleanup();
    }
  }, timeout);
  return () => {
    if (!current) throw new Error(`${suite}: no harness (did the factory fail?)`);
    return current;
  };
}

/** The contract tests every source must pass, each on a fresh harness: call it from a test file. */
export function describeSourceConformance(
  name: string,
  factory: () => Promise<ConformanceHarness>,
  options: ConformanceOptions = {},
): void {
  const timeout = options.timeoutMs ?? 30_000;

  describe(`source conformance: ${name}`, () => {
    const session = sessionPerTest("describeSourceConformance", factory, timeout);

    it("has a name and a positive leaseMs", { timeout }, () => {
      const { source } = session();
      expect(source.name).toEqual(expect.any(String));
      expect(source.name.length).toBeGreaterThan(0);
      expect(source.leaseMs).toBeGreaterThan(0);
    });

    it("ack removes the message: never redelivered, depth back to 0", { timeout }, async () => {
      const s = session();
      await s.harness.publish({ case: "ack" });
      const delivery = await s.one(DELIVER_MS);
      expect(delivery.id).toEqual(expect.any(String));
      expect(delivery.payload).toEqual({ case: "ack" });
      expect(delivery.attempt).toBe(1);
      // With a short lease, an ack that only looked done would show up again within the window.
      const { leaseExpiry, minLeaseMs } = s.caps;
      if (leaseExpiry) await delivery.extend(minLeaseMs);
      await s.ack(delivery);
      expect(await s.receive(1, (leaseExpiry ? minLeaseMs : 0) + QUIET_MS)).toEqual([]);
      await s.expectDepth({ waiting: 0, inFlight: 0 });
    });

    it("release hands the message back at once", { timeout }, async () => {
      const s = session();
      await s.harness.publish({ case: "release" });
      const first = await s.one(DELIVER_MS);
      await s.release(first);
      const again = await s.one(PROMPT_MS);
      expect(again.id).toBe(first.id);
      expect(again.payload).toEqual({ case: "release" });
      if (s.caps.releaseKeepsAttempt) expect(again.attempt, "release must not consume an attempt").toBe(first.attempt);
      else expect(again.attempt).toBeGreaterThanOrEqual(first.attempt);
      await s.ack(again);
    });

    it("release with a delay hides the message until the delay has passed", { timeout }, async () => {
      const s = session();
      const delayMs = Math.max(s.caps.minLeaseMs, 500);
      await s.harness.publish({ case: "release-delay" });
      const first = await s.one(DELIVER_MS);
      const start = performance.now();
      await s.release(first, { delayMs });
      const again = await s.one(delayMs * 2 + SLACK_MS);
      expect(performance.now() - start).toBeGreaterThanOrEqual(delayMs - SLOP_MS);
      expect(again.id).toBe(first.id);
      await s.ack(again);
    });

    it("an unrenewed lease expires: the message comes back and the stale delivery cannot settle it", { timeout }, async (ctx) => {
      const s = session();
      if (!s.caps.leaseExpiry) ctx.skip("the backend has no per-message lease");
      await s.harness.publish({ case: "expiry" });
      let start = performance.now();
      const first = await s.one(DELIVER_MS);
      let leaseMs = s.source.leaseMs;
      if (leaseMs > s.caps.minLeaseMs) {
        // One extend to shorten the lease, then no renewal at all.
        start = performance.now();
        leaseMs = s.caps.minLeaseMs;
        await first.extend(leaseMs);
      }
      const again = await s.one(leaseMs * 2 + SLACK_MS);
      expect(performance.now() - start).toBeGreaterThanOrEqual(leaseMs - SLOP_MS);
      expect(again).not.toBe(first);
      expect(again.id).toBe(first.id);
      // A lost lease is never acked: the old holder learns its lease is gone...
      await expect(first.extend(leaseMs)).rejects.toBeInstanceOf(LeaseLostError);
      // ...and its ack cannot take the message from the new holder: it rejects, or does nothing.
      await first.ack().catch((error: unknown) => expect(error).toBeInstanceOf(LeaseLostError));
      s.open.delete(first);
      await s.ack(again);
      await s.expectDepth({ waiting: 0, inFlight: 0 });
    });

    it("extend keeps the lease: not redelivered while renewed past its length", { timeout }, async () => {
      const s = session();
      const leaseMs = s.caps.minLeaseMs;
      await s.harness.publish({ case: "extend" });
      const delivery = await s.one(DELIVER_MS);
      const until = performance.now() + 3 * leaseMs;
      while (performance.now() < until) {
        await delivery.extend(leaseMs);
        // Renew at a third of the lease; the receive window is the pacing, and must stay empty.
        expect(await s.receive(1, leaseMs / 3)).toEqual([]);
      }
      await s.ack(delivery);
    });

    it("fail follows the retry rules: attempt increments, then the message is dead-lettered", { timeout }, async () => {
      const s = session();
      const { maxAttempts, minLeaseMs } = s.caps;
      await s.harness.publish({ case: "fail" });
      let delivery = await s.one(DELIVER_MS);
      for (let attempt = 1; ; attempt++) {
        expect(delivery.attempt).toBe(attempt);
        await s.fail(delivery, new Error(`failure ${attempt}`));
        if (attempt >= maxAttempts) break;
        delivery = await s.one(DELIVER_MS + SLACK_MS);
      }
      expect(await s.receive(1, Math.max(minLeaseMs, QUIET_MS)), "exhausted message must not come back").toEqual([]);
      const deadLetters = s.harness.capabilities?.deadLetters;
      if (deadLetters) {
        await pollUntil(async () => (await deadLetters()).length === 1, { timeoutMs: DELIVER_MS, message: "one dead letter" });
      }
      await s.expectDepth({ waiting: 0, inFlight: 0 });
    });

    it("depth counts waiting and in-flight messages", { timeout }, async (ctx) => {
      const s = session();
      if (!s.source.depth) ctx.skip("the source has no depth()");
      for (const n of [1, 2, 3]) await s.harness.publish({ case: "depth", n });
      await s.expectDepth({ waiting: 3, inFlight: 0 });
      const held = await s.receiveUntil(2, DELIVER_MS);
      expect(held).toHaveLength(2);
      await s.expectDepth({ waiting: 1, inFlight: 2 });
      for (const delivery of held) await s.ack(delivery);
      await s.ack(await s.one(DELIVER_MS));
      await s.expectDepth({ waiting: 0, inFlight: 0 });
    });

    it("receive returns promptly on abort, even in the middle of a long poll", { timeout }, async () => {
      const s = session();
      const controller = new AbortController();
      const start = performance.now();
      const pending = s.source.receive(1, controller.signal);
      setTimeout(() => controller.abort(), 100);
      expect(s.track(1, await pending)).toEqual([]);
      expect(performance.now() - start).toBeLessThan(ABORT_MS);
      const before = performance.now();
      expect(s.track(1, await s.source.receive(1, AbortSignal.abort()))).toEqual([]);
      expect(performance.now() - before).toBeLessThan(ABORT_MS);
    });

    it("receive never returns more than max", { timeout }, async () => {
      const s = session();
      for (const n of [1, 2, 3, 4, 5]) await s.harness.publish({ case: "max", n });
      const all = await s.receiveUntil(5, DELIVER_MS, 2);
      expect(all).toHaveLength(5);
      expect(new Set(all.map((d) => d.id)).size).toBe(5);
      for (const delivery of all) await s.ack(delivery);
    });

    it("payloads round-trip: nested object, unicode string", { timeout }, async () => {
      const s = session();
      const object = {
        text: "héllo wörld ✓ 日本語 🚀",
        nested: { list: [1, "two", { three: 3 }], flag: true, nothing: null, ratio: 0.5 },
      };
      const text = "ünïcödé ✓ Ελληνικά 👋";
      await s.harness.publish(object);
      await s.harness.publish(text);
      const both = await s.receiveUntil(2, DELIVER_MS);
      const payloads = both.map((d) => d.payload);
      expect(payloads).toContainEqual(object);
      expect(payloads).toContainEqual(text);
      for (const delivery of both) await s.ack(delivery);
    });

    it("pause stops delivery, hands back prefetched work, and held deliveries still settle", { timeout }, async (ctx) => {
      const s = session();
      if (!s.source.pause) ctx.skip("the source has no pause()");
      await s.harness.publish({ case: "pause", n: 1 });
      await s.harness.publish({ case: "pause", n: 2 });
      const held = await s.one(DELIVER_MS);
      await s.source.pause?.();
      expect(await s.receive(1, QUIET_MS), "no delivery after pause").toEqual([]);
      // Whatever a prefetching source buffered is back on the queue for other workers.
      await s.expectDepth({ waiting: 1, inFlight: 1 });
      await s.ack(held);
    });

    it("pause wakes a pending receive", { timeout }, async (ctx) => {
      const s = session();
      if (!s.source.pause) ctx.skip("the source has no pause()");
      const pending = s.source.receive(1, AbortSignal.timeout(10 * DELIVER_MS));
      const start = performance.now();
      await s.source.pause?.();
      expect(s.track(1, await pending)).toEqual([]);
      expect(performance.now() - start).toBeLessThan(PROMPT_MS);
    });
  });
}
