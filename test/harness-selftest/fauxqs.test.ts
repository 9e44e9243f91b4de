// @servers none
// The SQS emulator part of the harness against the real AWS SDK client.
import {
  CreateQueueCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { startFauxqs, sqsClientConfig } from "../harness/fauxqs.js";
import { listeningSockets } from "../harness/proc.js";
import { uniqueName } from "../harness/unique.js";
import { expectNothingLeft, footprintOf } from "./leftovers.js";

describe("startFauxqs", () => {
  it("creates a queue, sends and receives on 127.0.0.1; stop() leaves nothing", async () => {
    const t0 = performance.now();
    const server = await startFauxqs();
    const startMs = performance.now() - t0;
    const sqs = new SQSClient(sqsClientConfig(server.info()));
    try {
      expect(server.port).not.toBe(4566);
      expect(listeningSockets([server.pid]).map((s) => `${s.address}:${s.port}`)).toEqual([`127.0.0.1:${server.port}`]);
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName("q") }));
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "hello" }));
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 1 }));
      expect(Messages?.map((m) => m.Body)).toEqual(["hello"]);
    } finally {
      sqs.destroy();
      const footprint = footprintOf(server);
      const t1 = performance.now();
      await server.stop();
      console.log(`fauxqs: start ${startMs.toFixed(0)} ms, stop ${(performance.now() - t1).toFixed(0)} ms`);
      await expectNothingLeft(footprint);
    }
  });

  it("restart() keeps the port (state is in memory: queues are gone)", async () => {
    const server = await startFauxqs();
    const sqs = new SQSClient(sqsClientConfig(server.info()));
    try {
      await sqs.send(new CreateQueueCommand({ QueueName: uniqueName("q") }));
      const { port, pid } = server;
      await server.restart();
      expect(server.port).toBe(port);
      expect(server.pid).not.toBe(pid);
      expect((await sqs.send(new ListQueuesCommand({}))).QueueUrls ?? []).toEqual([]);
    } finally {
      sqs.destroy();
      await server.stop();
    }
  });

  it("pause() makes a request time out; resume() serves it again", async () => {
    const server = await startFauxqs();
    const sqs = new SQSClient({ ...sqsClientConfig(server.info()), maxAttempts: 1, requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true } });
    try {
      server.pause();
      await expect(sqs.send(new ListQueuesCommand({}))).rejects.toThrow(/timeout|timed out/i);
      server.resume();
      await sqs.send(new ListQueuesCommand({}));
    } finally {
      sqs.destroy();
      await server.stop();
    }
  });
});
