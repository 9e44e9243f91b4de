import { MissingDependencyError } from "@quiesce/sdk";
import { afterEach, describe, expect, it, vi } from "vitest";

afterEach(() => {
  vi.doUnmock("amqplib");
  vi.resetModules();
});

describe("loading the optional peer", () => {
  it("loads amqplib's connect when installed", async () => {
    const { loadAmqplib } = await import("../../src/amqp/load.js");
    expect(typeof (await loadAmqplib()).connect).toBe("function");
  });

  it("a missing amqplib says what to install", async () => {
    vi.doMock("amqplib", () => {
      throw Object.assign(new Error("Cannot find package 'amqplib'"), { code: "ERR_MODULE_NOT_FOUND" });
    });
    const { loadAmqplib } = await import("../../src/amqp/load.js");
    const error = await loadAmqplib().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect((error as Error).message).toMatch(/^@quiesce\/adapters\/amqp needs amqplib: .*; install it with `npm install amqplib@"\^2"`$/);
  });
});
