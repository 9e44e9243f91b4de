import type * as Bullmq from "bullmq";
import { loadRedisFor, missingPeer, type RedisConstructor } from "../redis/load.js";

export type BullmqModule = typeof Bullmq;

const subpath = "@quiesce/adapters/bullmq";

/**
 * bullmq and ioredis are optional peers: only users of this subpath install them, so they are
 * loaded on `start()`, and a missing one says what to install.
 */
export async function loadBullmq(): Promise<BullmqModule> {
  try {
    const mod = (await import("bullmq")) as BullmqModule & { default?: BullmqModule };
    // bullmq ships CommonJS to Node; its named exports come through either way.
    return typeof mod.Worker === "function" ? mod : (mod.default as BullmqModule);
  } catch (thrown) {
    throw missingPeer(subpath, "bullmq", "^5 || ^6", thrown);
  }
}

export function loadRedis(): Promise<RedisConstructor> {
  return loadRedisFor(subpath);
}
