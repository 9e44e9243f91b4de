import type * as Bullmq from "bullmq";
import type { Redis } from "ioredis";
import { MissingDependencyError } from "@quiesce/sdk";

export type BullmqModule = typeof Bullmq;
export type RedisConstructor = typeof Redis;

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
    throw missing("bullmq", "^5 || ^6", thrown);
  }
}

export async function loadRedis(): Promise<RedisConstructor> {
  let mod: { Redis?: RedisConstructor; default?: RedisConstructor | { Redis?: RedisConstructor } };
  try {
    mod = (await import("ioredis")) as typeof mod;
  } catch (thrown) {
    throw missing("ioredis", "^5 || ^6", thrown);
  }
  const fromDefault = mod.default;
  const ctor = mod.Redis ?? (typeof fromDefault === "function" ? fromDefault : fromDefault?.Redis);
  if (typeof ctor !== "function") throw new MissingDependencyError("@quiesce/adapters/bullmq: the installed ioredis exports no Redis class; install ioredis@^5 || ^6");
  return ctor;
}

function missing(name: string, range: string, cause: unknown): MissingDependencyError {
  const code = (cause as { code?: unknown } | null)?.code;
  const notFound = code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
  const detail = notFound ? "it is not installed" : `it failed to load: ${(cause as Error | null)?.message ?? String(cause)}`;
  return new MissingDependencyError(`@quiesce/adapters/bullmq needs ${name}: ${detail}; install it with \`npm install ${name}@"${range}"\``, { cause });
}
