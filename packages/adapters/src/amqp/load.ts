import type * as Amqplib from "amqplib";
import { MissingDependencyError } from "@quiesce/sdk";

export type AmqplibModule = typeof Amqplib;

const range = "^2";

/**
 * amqplib is an optional peer: only users of this subpath install it, so it is loaded on
 * `start()`, and a missing one says what to install.
 */
export async function loadAmqplib(): Promise<AmqplibModule> {
  let mod: AmqplibModule & { default?: AmqplibModule };
  try {
    mod = (await import("amqplib")) as typeof mod;
  } catch (thrown) {
    const code = (thrown as { code?: unknown } | null)?.code;
    const notFound = code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
    const detail = notFound ? "it is not installed" : `it failed to load: ${(thrown as Error | null)?.message ?? String(thrown)}`;
    throw new MissingDependencyError(`@quiesce/adapters/amqp needs amqplib: ${detail}; install it with \`npm install amqplib@"${range}"\``, { cause: thrown });
  }
  // amqplib ships CommonJS; its named exports come through either way.
  const resolved = typeof mod.connect === "function" ? mod : mod.default;
  if (typeof resolved?.connect !== "function") {
    throw new MissingDependencyError(`@quiesce/adapters/amqp: the installed amqplib exports no connect(); install amqplib@"${range}"`);
  }
  return resolved;
}
