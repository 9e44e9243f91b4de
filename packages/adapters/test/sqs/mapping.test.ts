import { ConfigError, LeaseLostError, SourceError } from "@quiesce/sdk";
import { describe, expect, it } from "vitest";
import { entryError, errorCode, sqsError } from "../../src/sqs/errors.js";
import { failureBackoffSeconds, LeaseClock, toSeconds, visibilityCapMs } from "../../src/sqs/lease-clock.js";
import { resolveSqsOptions } from "../../src/sqs/options.js";
import { maxReceiveCountWarning, queueFacts } from "../../src/sqs/queue-check.js";

describe("SQS error mapping", () => {
  it("reads the code from modeled errors, query-protocol names and batch entries", () => {
    expect(errorCode(Object.assign(new Error("x"), { name: "QueueDoesNotExist" }))).toBe("QueueDoesNotExist");
    expect(errorCode(Object.assign(new Error("x"), { name: "AWS.SimpleQueueService.NonExistentQueue" }))).toBe("NonExistentQueue");
    expect(errorCode({ Code: "ReceiptHandleIsInvalid" })).toBe("ReceiptHandleIsInvalid");
  });

  it("a gone receipt handle is a lost lease; refused credentials and a missing queue are settings; the rest is retried", () => {
    expect(entryError("DeleteMessage", "message 1", "ReceiptHandleIsInvalid", "bad")).toBeInstanceOf(LeaseLostError);
    expect(entryError("ChangeMessageVisibility", "message 1", "InvalidParameterValue", "Value x for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.")).toBeInstanceOf(LeaseLostError);
    expect(entryError("ChangeMessageVisibility", "message 1", "MessageNotInflight", "")).toBeInstanceOf(LeaseLostError);
    for (const name of ["InvalidClientTokenId", "SignatureDoesNotMatch", "AccessDenied", "CredentialsProviderError", "QueueDoesNotExist"]) {
      expect(sqsError("GetQueueAttributes", "queue q", Object.assign(new Error("no"), { name }))).toBeInstanceOf(ConfigError);
    }
    const throttled = sqsError("ReceiveMessage", "queue q", Object.assign(new Error("slow down"), { name: "RequestThrottled" }));
    expect(throttled).toBeInstanceOf(SourceError);
    expect(throttled.message).toBe("SQS ReceiveMessage failed for queue q: RequestThrottled: slow down");
  });
});

describe("LeaseClock", () => {
  it("counts whole seconds from before the request went out", () => {
    expect([toSeconds(1), toSeconds(1000), toSeconds(1001), toSeconds(0.5)]).toEqual([1, 1, 2, 1]);
    const clock = new LeaseClock(1_000, 30);
    expect(clock.lapsed(30_999)).toBe(false);
    expect(clock.lapsed(31_000)).toBe(true);
    clock.extended(20_000, 30);
    expect(clock.remainingMs(31_000)).toBe(19_000);
  });

  it("refuses an extension past 12 hours from the receive", () => {
    const clock = new LeaseClock(0, 30);
    expect(clock.passesCap(visibilityCapMs - 30_000, 30)).toBe(false);
    expect(clock.passesCap(visibilityCapMs - 29_000, 30)).toBe(true);
  });

  it("backs failures off by doubling visibility, capped", () => {
    expect([1, 2, 3, 4, 12].map((attempt) => failureBackoffSeconds(attempt, 1, 900))).toEqual([1, 2, 4, 8, 900]);
    expect(failureBackoffSeconds(5, 0, 900)).toBe(0);
  });
});

describe("redrive policy", () => {
  const options = resolveSqsOptions({ queueUrl: "https://sqs.us-east-1.amazonaws.com/1/q", clientConfig: {} });
  it("reads maxReceiveCount, and warns when releases could use it up", () => {
    const facts = queueFacts({ RedrivePolicy: JSON.stringify({ deadLetterTargetArn: "arn:aws:sqs:us-east-1:1:dlq", maxReceiveCount: 3 }) });
    expect(facts).toEqual({ maxReceiveCount: 3 });
    expect(maxReceiveCountWarning(options, facts)).toMatch(/maxReceiveCount is 3; every release by a drain counts a receive/);
    expect(maxReceiveCountWarning(options, { maxReceiveCount: 5 })).toBeNull();
    expect(maxReceiveCountWarning({ ...options, releaseMode: "resend" }, facts)).toBeNull();
    expect(queueFacts({})).toEqual({ maxReceiveCount: null });
    expect(queueFacts({ RedrivePolicy: "{" })).toEqual({ maxReceiveCount: null });
  });
});
