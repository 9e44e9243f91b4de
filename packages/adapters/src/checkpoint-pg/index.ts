/**
 * @quiesce/adapters/checkpoint-pg: a checkpoint store in a PostgreSQL table, one row per message.
 * For sources that cannot keep a checkpoint with the message (or only carry it on a re-publish,
 * which a crash never reaches). Give it to the worker as `checkpoints: { store }`.
 */
import type { CheckpointStore } from "@quiesce/sdk";
import { check, optional } from "@quiesce/sdk/source-kit";

/** What the store needs of a client: `pg`'s Pool (or Client) has it. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ readonly rows: readonly Record<string, unknown>[] }>;
}

export interface PgCheckpointStoreOptions {
  /** A pg Pool the caller owns and closes (e.g. through the worker's `resources`). */
  readonly pool: Queryable;
  /** Table name, optionally schema-qualified; created on first use if missing. @defaultValue "quiesce_checkpoints" */
  readonly table?: string;
}

const where = "createPgCheckpointStore";
const tableName = check("a table name of letters, digits and _ (optionally schema.table)", (value) =>
  typeof value === "string" && /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(value) ? value : undefined,
);

export function createPgCheckpointStore(options: PgCheckpointStoreOptions): CheckpointStore {
  const pool = options?.pool;
  if (typeof pool?.query !== "function") throw new TypeError(`${where}: pool must be a pg Pool or Client (with query())`);
  const table = optional(tableName, `${where}: table`, options.table, "quiesce_checkpoints");
  // Text, not jsonb: the runtime's string comes back byte for byte.
  let ready: Promise<unknown> | null = null;
  const ensure = (): Promise<unknown> => {
    ready ??= pool
      .query(`CREATE TABLE IF NOT EXISTS ${table} (key text PRIMARY KEY, data text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`)
      .catch((error: unknown) => {
        ready = null; // try again on the next call
        throw error;
      });
    return ready;
  };
  return {
    async load(key) {
      await ensure();
      const { rows } = await pool.query(`SELECT data FROM ${table} WHERE key = $1`, [key]);
      const data = rows[0]?.data;
      return typeof data === "string" ? data : undefined;
    },
    async save(key, data) {
      await ensure();
      await pool.query(
        `INSERT INTO ${table} (key, data) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET data = excluded.data, updated_at = now()`,
        [key, data],
      );
    },
    async delete(key) {
      await ensure();
      await pool.query(`DELETE FROM ${table} WHERE key = $1`, [key]);
    },
  };
}
