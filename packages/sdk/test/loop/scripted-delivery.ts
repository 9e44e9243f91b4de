import type { Delivery } from "../../src/source/source.js";

/** A delivery whose settle calls are recorded and can be held open, for settle-order unit tests. */
export function scriptedDelivery(id: string, options: { ack?: () => Promise<void>; extend?: () => Promise<void> } = {}) {
  const calls: string[] = [];
  const delivery: Delivery = {
    id,
    payload: { id },
    attempt: 1,
    extend: async () => {
      calls.push("extend");
      await options.extend?.();
    },
    ack: async () => {
      calls.push("ack");
      await options.ack?.();
    },
    release: async () => {
      calls.push("release");
    },
    fail: async () => {
      calls.push("fail");
    },
  };
  return { delivery, calls };
}
