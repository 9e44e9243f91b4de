import { MissingDependencyError } from "@quiesce/sdk";
import { afterEach, describe, expect, it, vi } from "vitest";

afterEach(() => {
  vi.doUnmock("@aws-sdk/client-sqs");
  vi.resetModules();
});

describe("loading the optional peer", () => {
  it("loads @aws-sdk/client-sqs's SQSClient when installed", async () => {
    const { loadSqs } = await import("../../src/sqs/load.js");
    expect(typeof (await loadSqs()).SQSClient).toBe("function");
  });

  it("a missing @aws-sdk/client-sqs says what to install", async () => {
    vi.doMock("@aws-sdk/client-sqs", () => {
      throw Object.assign(new Error("Cannot find package '@aws-sdk/client-sqs'"), { code: "ERR_MODULE_NOT_FOUND" });
    });
    const { loadSqs } = await import("../../src/sqs/load.js");
    const error = await loadSqs().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect((error as Error).message).toMatch(/@quiesce\/adapters\/sqs needs @aws-sdk\/client-sqs: .*; install it with `npm install @aws-sdk\/client-sqs@"\^3"`/);
  });
});
