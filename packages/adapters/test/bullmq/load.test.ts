import { MissingDependencyError } from "@quiesce/sdk";
import { afterEach, describe, expect, it, vi } from "vitest";

const notInstalled = (name: string) => () => {
  throw Object.assign(new Error(`Cannot find package '${name}'`), { code: "ERR_MODULE_NOT_FOUND" });
};

afterEach(() => {
  vi.doUnmock("bullmq");
  vi.doUnmock("ioredis");
  vi.resetModules();
});

describe("loading the optional peers", () => {
  it("loads bullmq's Worker and ioredis' Redis class when installed", async () => {
    const { loadBullmq, loadRedis } = await import("../../src/bullmq/load.js");
    expect(typeof (await loadBullmq()).Worker).toBe("function");
    expect(typeof (await loadRedis())).toBe("function");
  });

  it("a missing bullmq says what to install", async () => {
    vi.doMock("bullmq", notInstalled("bullmq"));
    const { loadBullmq } = await import("../../src/bullmq/load.js");
    const error = await loadBullmq().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect((error as Error).message).toMatch(/@quiesce\/adapters\/bullmq needs bullmq: .*install it with `npm install bullmq@"\^5 \|\| \^6"`/);
  });

  it("a missing ioredis says what to install", async () => {
    vi.doMock("ioredis", notInstalled("ioredis"));
    const { loadRedis } = await import("../../src/bullmq/load.js");
    await expect(loadRedis()).rejects.toThrow(/needs ioredis: .*npm install ioredis@/);
  });
});
