import { randomBytes } from "node:crypto";

let counter = 0;

/**
 * A name no other test (in this or a parallel worker, in this or an earlier run) uses: for
 * queues, vhosts, key prefixes, databases. Only `[a-z0-9_-]`, at most 63 characters (PostgreSQL
 * identifiers; SQS allows 80, and `.fifo` can be appended), so it is valid for every backend.
 * Use `_` in the prefix when the name becomes an unquoted SQL identifier.
 */
export function uniqueName(prefix = "t"): string {
  counter++;
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_-]+/g, "_").slice(0, 40);
  return `${clean}_${process.pid.toString(36)}${counter.toString(36)}_${randomBytes(4).toString("hex")}`.slice(0, 63);
}
