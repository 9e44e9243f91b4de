import type { Redis } from "ioredis";
import { MissingDependencyError } from "@quiesce/sdk";

export type RedisConstructor = typeof Redis;

/**
 * ioredis is an optional peer: only users of a Redis-backed source install it, so it is loaded
 * on `start()`. `subpath` names the entry point that needs it, for the install hint.
 */
export async function loadRedisFor(subpath: string): Promise<RedisConstructor> {
  let mod: { Redis?: RedisConstructor; default?: RedisConstructor | { Redis?: RedisConstructor } };
  try {
    mod = (await import("ioredis")) as typeof mod;
  } catch (thrown) {
    throw missingPeer(subpath, "ioredis", "^5 || ^6", thrown);
  }
  const fromDefault = mod.default;
  const ctor = mod.Redis ?? (typeof fromDefault === "function" ? fromDefault : fromDefault?.Redis);
  if (typeof ctor !== "function") throw new MissingDependencyError(`${subpath}: the installed ioredis exports no Redis class; install ioredis@^5 || ^6`);
  return ctor;
}

/** The error for an optional peer that is not installed (or fails to load): it says what to install. */
export function missingPeer(subpath: string, name: string, range: string, cause: unknown): MissingDependencyError {
  const code = (cause as { code?: unknown } | null)?.code;
  const notFound = code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
  const detail = notFound ? "it is not installed" : `it failed to load: ${(cause as Error | null)?.message ?? String(cause)}`;
  return new MissingDependencyError(`${subpath} needs ${name}: ${detail}; install it with \`npm install ${name}@"${range}"\``, { cause });
}
