import type * as Pg from "pg";
import { MissingDependencyError } from "@quiesce/sdk";

export type PgModule = typeof Pg;

/**
 * pg is an optional peer: only users of this subpath install it, so it is loaded when the
 * resource starts, and a missing one says what to install.
 */
export async function loadPg(): Promise<PgModule> {
  let mod: PgModule & { default?: PgModule };
  try {
    mod = (await import("pg")) as PgModule & { default?: PgModule };
  } catch (thrown) {
    throw missing(thrown);
  }
  // pg ships CommonJS: under ESM its classes sit on the default export.
  const pg = typeof mod.Pool === "function" ? mod : mod.default;
  if (typeof pg?.Pool !== "function") throw new MissingDependencyError('@quiesce/adapters/pg: the installed pg exports no Pool class; install it with `npm install pg@"^8"`');
  return pg;
}

function missing(cause: unknown): MissingDependencyError {
  const code = (cause as { code?: unknown } | null)?.code;
  const notFound = code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
  const detail = notFound ? "it is not installed" : `it failed to load: ${(cause as Error | null)?.message ?? String(cause)}`;
  return new MissingDependencyError(`@quiesce/adapters/pg needs pg: ${detail}; install it with \`npm install pg@"^8"\``, { cause });
}
