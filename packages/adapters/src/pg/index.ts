/**
 * @quiesce/adapters/pg: a PostgreSQL pool as a quiesce resource. pg is an optional peer
 * dependency of @quiesce/adapters, loaded only when the resource starts.
 */
import { PgResource } from "./pg-resource.js";
import { resolvePgOptions, type PgResourceOptions } from "./options.js";

export type { PgResourceOptions } from "./options.js";
export type { PgHandle, PgQueryable, PgQueryOptions, PgResource } from "./pg-resource.js";

/**
 * A pg.Pool the worker sizes, observes and ends after the drain. Options are checked here (a bad
 * one throws a ConfigError naming it); pg is loaded and the pool created by the worker's start,
 * and connections open only when a job needs one.
 *
 * ```ts
 * const worker = createWorker({
 *   resources: { db: pgResource({ connection: { connectionString: process.env.DATABASE_URL } }) },
 *   handler: (payload, ctx) => ctx.resources.db.query("insert into results values ($1)", [payload]),
 * });
 * ```
 */
export function pgResource(options: PgResourceOptions = {}): PgResource {
  return new PgResource(resolvePgOptions(options));
}
