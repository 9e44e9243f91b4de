import { ConfigError } from "@quiesce/sdk";
import { describe, expect, it } from "vitest";
import { resolveSqsOptions, type SqsSourceOptions } from "../../src/sqs/options.js";

const queueUrl = "https://sqs.eu-west-1.amazonaws.com/123456789012/emails";
const base = { queueUrl, clientConfig: { region: "eu-west-1" } } satisfies SqsSourceOptions;

function rejects(options: unknown, message: RegExp): void {
  const attempt = (): unknown => resolveSqsOptions(options as SqsSourceOptions);
  expect(attempt).toThrow(ConfigError);
  expect(attempt).toThrow(message);
}

describe("resolveSqsOptions", () => {
  it("fills the defaults and owns a client made from clientConfig", () => {
    expect(resolveSqsOptions(base)).toEqual({
      queueUrl,
      queueName: "emails",
      fifo: false,
      client: null,
      clientConfig: { region: "eu-west-1" },
      waitTimeSeconds: 20,
      batchSize: null,
      visibilityTimeoutSeconds: 30,
      decode: JSON.parse,
      releaseMode: "visibility",
      failureBackoffSeconds: 1,
      failureBackoffMaxSeconds: 900,
      warnBelowMaxReceiveCount: 5,
      logger: null,
    });
  });

  it("takes a client (used, never destroyed) and knows a FIFO queue by its name", () => {
    const client = { send: () => undefined } as unknown as NonNullable<SqsSourceOptions["client"]>;
    const resolved = resolveSqsOptions({ queueUrl: `${queueUrl}.fifo`, client, batchSize: 10, waitTimeSeconds: 0 });
    expect(resolved).toMatchObject({ client, clientConfig: null, fifo: true, queueName: "emails.fifo", batchSize: 10, waitTimeSeconds: 0 });
  });

  it("names the option, the accepted form and the value in each refusal", () => {
    rejects(undefined, /options must be an object .* got undefined/);
    rejects({ ...base, queueUrl: "emails" }, /queueUrl must be an SQS queue URL .* got "emails"/);
    rejects({ ...base, queueUrl: "https://sqs.eu-west-1.amazonaws.com/123/bad name" }, /queueUrl must be an SQS queue URL/);
    rejects({ queueUrl }, /client \(an SQSClient\) or clientConfig .* is required, got neither/);
    rejects({ ...base, client: { send: () => undefined } }, /give client or clientConfig, not both/);
    rejects({ queueUrl, client: {} }, /client must be an SQSClient .* got an object/);
    rejects({ queueUrl, clientConfig: "eu-west-1" }, /clientConfig must be SQSClientConfig .* got "eu-west-1"/);
    rejects({ ...base, waitTimeSeconds: 21 }, /waitTimeSeconds must be an integer from 0 to 20, got 21/);
    rejects({ ...base, batchSize: 0 }, /batchSize must be an integer from 1 to 10, got 0/);
    rejects({ ...base, batchSize: 11 }, /batchSize must be an integer from 1 to 10, got 11/);
    rejects({ ...base, visibilityTimeoutSeconds: 43_201 }, /visibilityTimeoutSeconds must be an integer from 1 to 43200, got 43201/);
    rejects({ ...base, visibilityTimeoutSeconds: 1.5 }, /visibilityTimeoutSeconds must be an integer from 1 to 43200, got 1.5/);
    rejects({ ...base, decode: "json" }, /decode must be a function .* got "json"/);
    rejects({ ...base, releaseMode: "requeue" }, /releaseMode must be "visibility" or "resend", got "requeue"/);
    rejects({ ...base, queueUrl: `${queueUrl}.fifo`, releaseMode: "resend" }, /releaseMode "resend" would put a released message behind the rest of its FIFO message group/);
    rejects({ ...base, failureBackoffSeconds: 10, failureBackoffMaxSeconds: 5 }, /failureBackoffMaxSeconds must be >= failureBackoffSeconds \(10\), got 5/);
    rejects({ ...base, logger: {} }, /logger must be a Logger .* got an object/);
  });
});
