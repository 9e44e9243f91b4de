import { createWorker, type JobContext } from "@quiesce/sdk";
import { describe, expectTypeOf, it } from "vitest";
import { pgResource, type PgHandle } from "../../src/pg/index.js";

describe("types", () => {
  it("ctx.resources.<key> is the pg handle, keyed as in the resources object", () => {
    const db = pgResource({ name: "orders" });
    const worker = createWorker({
      resources: { db },
      async handler(payload, ctx) {
        expectTypeOf(ctx.resources.db).toEqualTypeOf<PgHandle>();
        // @ts-expect-error: no resource under that key
        void ctx.resources.other;
        const { rows } = await ctx.resources.db.query<{ n: number }>("select 1 as n");
        expectTypeOf(rows[0]).toEqualTypeOf<{ n: number } | undefined>();
        return payload;
      },
    });
    expectTypeOf(worker.status).toBeFunction();
  });

  it("without resources, ctx.resources is an open record", () => {
    createWorker({
      handler(_payload, ctx: JobContext) {
        expectTypeOf(ctx.resources).toEqualTypeOf<Readonly<Record<string, unknown>>>();
      },
    });
  });
});
