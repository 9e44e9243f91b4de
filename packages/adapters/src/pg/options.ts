import type { Pool, PoolConfig } from "pg";
import { ConfigError } from "@quiesce/sdk";
import { invalid, optional, positiveInt, show as describe } from "@quiesce/sdk/source-kit";

/** Options of {@link pgResource}. Durations are in ms. */
export interface PgResourceOptions {
  /**
   * The resource's name: the `pool` label of `quiesce_pool_connections` and
   * `quiesce_pool_wait_seconds`, and its name in logs and the drain report. @defaultValue "pg"
   */
  readonly name?: string;
  /**
   * pg pool settings (`connectionString`, `host`, `ssl`, `application_name`...) for a pool this
   * resource creates at start-up, sizes and ends after the drain. Its `max` and
   * `idleTimeoutMillis` are set from the options below; leave them out here.
   * @defaultValue `{}`: pg's own defaults, including the `PG*` environment variables
   */
  readonly connection?: Omit<PoolConfig, "max" | "idleTimeoutMillis">;
  /**
   * A pool of your own instead: it is only observed (metrics, cancellation of the queries run
   * through this resource), never resized or ended, so end it yourself after `run()` resolves.
   * Exclusive with `connection`, `max` and `idleTimeoutMs`.
   */
  readonly pool?: Pool;
  /**
   * Connections at most. @defaultValue the worker's concurrency (each running job can hold one),
   * capped by this worker's share of `QUIESCE_DB_MAX_CONNECTIONS`
   */
  readonly max?: number;
  /** An unused connection is closed after this long, so an idle worker holds none. @defaultValue 10000 */
  readonly idleTimeoutMs?: number;
  /** How long `close()` waits for checked-out connections before it gives up on them. @defaultValue 5000 */
  readonly closeTimeoutMs?: number;
  /**
   * How long the server may take to handle a cancel request; past it the connection is destroyed
   * instead of going back to the pool. @defaultValue 2000
   */
  readonly cancelTimeoutMs?: number;
  /**
   * Whether this pool draws on the fleet budget (`QUIESCE_DB_MAX_CONNECTIONS` ÷
   * `QUIESCE_MAX_REPLICAS`); false for a pool to another server. @defaultValue true
   */
  readonly budget?: boolean;
}

export interface ResolvedPgOptions {
  readonly name: string;
  readonly connection: Omit<PoolConfig, "max" | "idleTimeoutMillis">;
  readonly pool: Pool | null;
  readonly max: number | null;
  readonly idleTimeoutMs: number;
  readonly closeTimeoutMs: number;
  readonly cancelTimeoutMs: number;
  readonly budget: boolean;
}

export const pgDefaults = { name: "pg", idleTimeoutMs: 10_000, closeTimeoutMs: 5_000, cancelTimeoutMs: 2_000 } as const;

const where = "pgResource";

/** Validate and fill in defaults. Pure: nothing is loaded or connected. Each message names the option. */
export function resolvePgOptions(input: PgResourceOptions = {}): ResolvedPgOptions {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw invalid(`${where}: options`, "an object", input);
  }
  const name = input.name ?? pgDefaults.name;
  if (typeof name !== "string" || !/^[A-Za-z0-9_.:-]{1,64}$/.test(name)) {
    throw new ConfigError(`${where}: name must be 1-64 characters of letters, digits, "_", ".", ":" or "-" (it is a metric label), got ${describe(name)}`);
  }
  const at = `${where}("${name}")`;
  const pool = input.pool ?? null;
  if (pool !== null && !isPool(pool)) {
    throw new ConfigError(`${at}: pool must be a pg.Pool (with connect(), end() and totalCount), got ${describe(pool)}`);
  }
  if (pool !== null) {
    for (const owned of ["connection", "max", "idleTimeoutMs"] as const) {
      if (input[owned] !== undefined) {
        throw new ConfigError(`${at}: ${owned} applies only to a pool the resource creates; leave it out when passing pool (size your own pool instead), got ${describe(input[owned])}`);
      }
    }
  }
  const connection = input.connection ?? {};
  if (typeof connection !== "object" || connection === null || Array.isArray(connection)) {
    throw new ConfigError(`${at}: connection must be pg pool settings (an object such as { connectionString }), got ${describe(connection)}`);
  }
  for (const key of ["max", "idleTimeoutMillis"] as const) {
    if ((connection as Record<string, unknown>)[key] !== undefined) {
      const instead = key === "max" ? "max" : "idleTimeoutMs";
      throw new ConfigError(`${at}: connection.${key} is set by the resource; use the ${instead} option, got ${describe((connection as Record<string, unknown>)[key])}`);
    }
  }
  const budget = input.budget ?? true;
  if (typeof budget !== "boolean") throw invalid(`${at}: budget`, "true or false", budget);
  return {
    name,
    connection,
    pool,
    max: optional(positiveInt, `${at}: max`, input.max, null),
    idleTimeoutMs: optional(positiveInt, `${at}: idleTimeoutMs`, input.idleTimeoutMs, pgDefaults.idleTimeoutMs),
    closeTimeoutMs: optional(positiveInt, `${at}: closeTimeoutMs`, input.closeTimeoutMs, pgDefaults.closeTimeoutMs),
    cancelTimeoutMs: optional(positiveInt, `${at}: cancelTimeoutMs`, input.cancelTimeoutMs, pgDefaults.cancelTimeoutMs),
    budget,
  };
}

function isPool(value: unknown): value is Pool {
  const candidate = value as { connect?: unknown; end?: unknown; totalCount?: unknown };
  return typeof value === "object" && value !== null && typeof candidate.connect === "function" && typeof candidate.end === "function" && typeof candidate.totalCount === "number";
}
