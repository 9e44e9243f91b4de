import { Readable } from "node:stream";
import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it, vi } from "vitest";
import { Receives } from "../../src/sqs/receives.js";

interface Seen {
  readonly input: { MaxNumberOfMessages?: number; QueueUrl?: string };
  readonly signal: AbortSignal | undefined;
}

/** A client over an in-process request handler: each request is answered with no messages, or held until its signal aborts. */
function client(cacheMiddleware: boolean, hold = false) {
  const seen: Seen[] = [];
  const requestHandler = {
    async handle(request: { body: string | Uint8Array }, options: { abortSignal?: AbortSignal } = {}) {
      seen.push({ input: JSON.parse(Buffer.from(request.body).toString()) as Seen["input"], signal: options.abortSignal });
      if (hold) {
        await new Promise<void>((_, reject) => {
          options.abortSignal?.addEventListener("abort", () => reject(Object.assign(new Error("Request aborted"), { name: "AbortError" })), { once: true });
        });
      }
      const body = Buffer.from("{}");
      return { response: { statusCode: 200, headers: { "content-type": "application/x-amz-json-1.0", "content-length": String(body.length) }, body: Readable.from([body]) } };
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
    destroy: () => undefined,
  };
  const sqs = new SQSClient({ region: "us-east-1", endpoint: "http://127.0.0.1:1", credentials: { accessKeyId: "a", secretAccessKey: "b" }, cacheMiddleware, requestHandler });
  return { sqs, seen };
}

const receive = (max: number, queue = "q"): ReceiveMessageCommand =>
  new ReceiveMessageCommand({ QueueUrl: `http://127.0.0.1:1/000000000000/${queue}`, MaxNumberOfMessages: max, WaitTimeSeconds: 1 });

describe.each([true, false])("Receives (client cacheMiddleware: %s)", (cacheMiddleware) => {
  it("sends each command's own input under the signal given with it", async () => {
    const { sqs, seen } = client(cacheMiddleware);
    const receives = new Receives(sqs);
    const resolutions = vi.spyOn(ReceiveMessageCommand.prototype, "resolveMiddleware");
    const first = new AbortController();
    const second = new AbortController();
    await receives.send(receive(3, "a"), first.signal);
    await receives.send(receive(7, "b"), first.signal);
    await receives.send(receive(10, "c"), second.signal);
    expect(seen.map((s) => [s.input.MaxNumberOfMessages, s.input.QueueUrl?.endsWith(`/${"abc"[seen.indexOf(s)]}`)])).toEqual([
      [3, true],
      [7, true],
      [10, true],
    ]);
    expect(seen.map((s) => s.signal)).toEqual([first.signal, first.signal, second.signal]);
    // The middleware stack: resolved once per signal when the client caches it, else per call.
    expect(resolutions).toHaveBeenCalledTimes(cacheMiddleware ? 2 : 3);
    resolutions.mockRestore();
    sqs.destroy();
  });

  it("an abort cuts a receive in flight short, also on a reused stack", async () => {
    const { sqs, seen } = client(cacheMiddleware, true);
    const receives = new Receives(sqs);
    const controller = new AbortController();
    const pending = [receives.send(receive(10), controller.signal), receives.send(receive(10), controller.signal)];
    // Both out on the wire (in the request handler), then the drain aborts.
    while (seen.length < 2) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    for (const call of pending) await expect(call).rejects.toMatchObject({ name: "AbortError" });
    sqs.destroy();
  });
});
