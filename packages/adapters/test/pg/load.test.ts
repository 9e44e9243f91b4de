import { MissingDependencyError } from "@quiesce/sdk";
import { afterEach, describe, expect, it, vi } from "vitest";

afterEach(() => {
  vi.doUnmock("pg");
  vi.resetModules();
});

describe("loading the optional peer pg", () => {
  it("loads pg's Pool when installed", async () => {
    const { loadPg } = await import("../../src/pg/load.js");
    expect(typeof (await loadPg()).Pool).toBe("function");
  });

  it("a missing pg says what to install", async () => {
    vi.doMock("pg", () => {
      throw Object.assign(new Error("Cannot find package 'pg'"), { code: "ERR_MODULE_NOT_FOUND" });
    });
    const { loadPg } = await import("../../src/pg/load.js");
    const error = await loadPg().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(MissingDependencyError);
    // (vitest wraps the mock's throw, so its code does not say "not installed" here)
    expect((error as Error).message).toMatch(/^@quiesce\/adapters\/pg needs pg: .*; install it with `npm install pg@"\^8"`$/);
  });
});
