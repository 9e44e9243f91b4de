import { describe, expect, it, vi } from "vitest";
import type { AmqpDelivery } from "../../src/amqp/amqp-delivery.js";
import { PrefetchBuffer } from "../../src/amqp/buffer.js";

/** What the buffer looks at: when the lease ends, and how to hand a message back. */
function held(id: string, leaseEnd: number): AmqpDelivery & { released: number } {
  const delivery = { id, leaseEnd, released: 0, releaseNow: () => void delivery.released++ };
  return delivery as unknown as AmqpDelivery & { released: number };
}

describe("PrefetchBuffer", () => {
  it("hands out the oldest first, never more than asked", () => {
    const buffer = new PrefetchBuffer(1_000);
    const far = Date.now() + 60_000;
    for (const id of ["a", "b", "c"]) buffer.push(held(id, far));
    expect(buffer.take(2).map((d) => d.id)).toEqual(["a", "b"]);
    expect(buffer.size).toBe(1);
    buffer.close();
  });

  it("requeues instead of handing out a message held too close to its lease end", () => {
    const buffer = new PrefetchBuffer(1_000);
    const stale = held("stale", Date.now() + 500);
    buffer.push(stale);
    buffer.push(held("fresh", Date.now() + 60_000));
    expect(buffer.take(5).map((d) => d.id)).toEqual(["fresh"]);
    expect(stale.released).toBe(1);
    buffer.close();
  });

  it("a timer gives back what sits unstarted until near its lease end, re-armed for the next", () => {
    vi.useFakeTimers();
    try {
      const buffer = new PrefetchBuffer(1_000);
      const first = held("first", Date.now() + 5_000);
      const second = held("second", Date.now() + 9_000);
      buffer.push(first);
      buffer.push(second);
      vi.advanceTimersByTime(4_000);
      expect([first.released, second.released]).toEqual([1, 0]);
      expect(buffer.size).toBe(1);
      vi.advanceTimersByTime(4_000);
      expect(second.released).toBe(1);
      expect(buffer.size).toBe(0);
      buffer.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it("wait resolves on a message, on wake, on abort and on timeout", async () => {
    const buffer = new PrefetchBuffer(1_000);
    const never = new AbortController().signal;
    const onMessage = buffer.wait(never, 10_000);
    buffer.push(held("m", Date.now() + 60_000));
    expect(await onMessage).toBe("work");
    const onWake = buffer.wait(never, 10_000);
    buffer.wake();
    expect(await onWake).toBe("work");
    const controller = new AbortController();
    const onAbort = buffer.wait(controller.signal, 10_000);
    controller.abort();
    expect(await onAbort).toBe("abort");
    expect(await buffer.wait(never, 5)).toBe("timeout");
    buffer.close();
  });
});
