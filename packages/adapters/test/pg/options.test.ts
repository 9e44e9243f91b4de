import { ConfigError } from "@quiesce/sdk";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { resolvePgOptions, type PgResourceOptions } from "../../src/pg/options.js";

const bad = (options: unknown): string => {
  try {
    resolvePgOptions(options as PgResourceOptions);
  } catch (thrown) {
    expect(thrown).toBeInstanceOf(ConfigError);
    return (thrown as Error).message;
  }
  throw new Error("expected a ConfigError");
};

describe("pgResource options", () => {
  it("fills in the defaults: an owned pool from pg's own defaults, sized later", () => {
    expect(resolvePgOptions()).toEqual({
      name: "pg",
      connection: {},
      pool: null,
      max: null,
      idleTimeoutMs: 10_000,
      closeTimeoutMs: 5_000,
      cancelTimeoutMs: 2_000,
      budget: true,
    });
  });

  it("keeps what it is given", () => {
    const resolved = resolvePgOptions({ name: "orders", connection: { connectionString: "postgres://x@h/db" }, max: 3, idleTimeoutMs: 500, budget: false });
    expect(resolved).toMatchObject({ name: "orders", connection: { connectionString: "postgres://x@h/db" }, max: 3, idleTimeoutMs: 500, budget: false });
  });

  it("takes a pool of the caller's to observe", () => {
    const pool = new pg.Pool({ max: 2 });
    expect(resolvePgOptions({ pool }).pool).toBe(pool);
  });

  it.each([
    [{ max: 0 }, 'pgResource("pg"): max must be a positive integer, got 0'],
    [{ max: 2.5 }, 'pgResource("pg"): max must be a positive integer, got 2.5'],
    [{ idleTimeoutMs: -1 }, 'pgResource("pg"): idleTimeoutMs must be a positive integer, got -1'],
    [{ closeTimeoutMs: "5s" }, 'pgResource("pg"): closeTimeoutMs must be a positive integer, got "5s"'],
    [{ cancelTimeoutMs: 0 }, 'pgResource("pg"): cancelTimeoutMs must be a positive integer, got 0'],
    [{ budget: "yes" }, 'pgResource("pg"): budget must be true or false, got "yes"'],
    [{ name: "" }, 'pgResource: name must be 1-64 characters of letters, digits, "_", ".", ":" or "-" (it is a metric label), got ""'],
    [{ name: "a b" }, 'pgResource: name must be 1-64 characters of letters, digits, "_", ".", ":" or "-" (it is a metric label), got "a b"'],
    [{ connection: "postgres://h/db" }, 'pgResource("pg"): connection must be pg pool settings (an object such as { connectionString }), got "postgres://h/db"'],
    [{ connection: { max: 4 } }, 'pgResource("pg"): connection.max is set by the resource; use the max option, got 4'],
    [{ connection: { idleTimeoutMillis: 1 } }, 'pgResource("pg"): connection.idleTimeoutMillis is set by the resource; use the idleTimeoutMs option, got 1'],
    [{ pool: { query() {} } }, 'pgResource("pg"): pool must be a pg.Pool (with connect(), end() and totalCount), got an object'],
    ["db", 'pgResource: options must be an object, got "db"'],
  ])("%j is refused: %s", (options, message) => {
    expect(bad(options)).toBe(message);
  });

  it("a passed-in pool cannot be sized or timed by the resource", () => {
    const pool = new pg.Pool();
    expect(bad({ pool, max: 4 })).toBe(
      'pgResource("pg"): max applies only to a pool the resource creates; leave it out when passing pool (size your own pool instead), got 4',
    );
    expect(bad({ pool, connection: {} })).toMatch(/^pgResource\("pg"\): connection applies only to a pool the resource creates/);
    expect(bad({ pool, idleTimeoutMs: 1 })).toMatch(/^pgResource\("pg"\): idleTimeoutMs applies only/);
  });
});
