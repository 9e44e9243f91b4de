import { inject } from "vitest";
import type { FauxqsInfo } from "./fauxqs.js";
import type { PostgresInfo } from "./postgres.js";
import type { RabbitmqInfo } from "./rabbitmq.js";
import type { RedisInfo } from "./redis.js";
import type { ServerName } from "./server-needs.js";

/** The addresses test/global-setup.ts publishes: only the servers the selected files declared. */
export interface SharedServerInfo {
  readonly redis?: RedisInfo;
  readonly rabbitmq?: RabbitmqInfo;
  readonly postgres?: PostgresInfo;
  readonly fauxqs?: FauxqsInfo;
}

declare module "vitest" {
  export interface ProvidedContext {
    quiesceServers: SharedServerInfo;
  }
}

/** Typed access to the shared servers; reading one the file did not declare throws. */
export interface Servers {
  readonly redis: RedisInfo;
  readonly rabbitmq: RabbitmqInfo;
  readonly postgres: PostgresInfo;
  readonly fauxqs: FauxqsInfo;
  /** Whether the server runs for this run (declared by this or another selected file). */
  has(name: ServerName): boolean;
}

class SharedServers implements Servers {
  readonly #info: SharedServerInfo;

  constructor(info: SharedServerInfo) {
    this.#info = info;
  }

  #need<K extends ServerName>(name: K): NonNullable<SharedServerInfo[K]> {
    const info = this.#info[name];
    if (info === undefined) {
      throw new Error(`${name} is not running: put "// @servers ${name}" in the first lines of this test file (test/global-setup.ts reads them)`);
    }
    return info as NonNullable<SharedServerInfo[K]>;
  }

  get redis(): RedisInfo {
    return this.#need("redis");
  }
  get rabbitmq(): RabbitmqInfo {
    return this.#need("rabbitmq");
  }
  get postgres(): PostgresInfo {
    return this.#need("postgres");
  }
  get fauxqs(): FauxqsInfo {
    return this.#need("fauxqs");
  }
  has(name: ServerName): boolean {
    return this.#info[name] !== undefined;
  }
}

/**
 * The servers test/global-setup.ts started once for the whole run. Share them through unique
 * names (uniqueName()); for restarts, pauses or broker-side faults start a private instance
 * (startRedis() and friends) instead, since those disturb every other test file.
 */
export function servers(): Servers {
  const info = inject("quiesceServers") as SharedServerInfo | undefined;
  if (info === undefined) throw new Error("no shared servers: run this file in the vitest project \"integration\" (test/vitest.config.ts)");
  return new SharedServers(info);
}
