import type { ReceiveMessageCommand, ReceiveMessageCommandOutput, SQSClient } from "@aws-sdk/client-sqs";

type ReceiveHandler = ReturnType<ReceiveMessageCommand["resolveMiddleware"]>;

/**
 * Sends the source's ReceiveMessage calls, each under the poller's abort signal (a drain cuts the
 * long poll short).
 *
 * `client.send(command, { abortSignal })` resolves the client's whole middleware stack again on
 * every call: an options object bypasses the client's `cacheMiddleware` cache, and clears it for
 * the calls without one (the deletes). That resolution was most of the SDK's own per-request
 * work in the 4-poller bench. So when the client caches its middleware (the source's own client
 * does), the stack resolved for a signal is kept and every receive under that signal reuses it:
 * what the client does per command class, with the signal in the options. A client that does not
 * cache gets `client.send` as before.
 */
export class Receives {
  readonly #client: SQSClient;
  readonly #cache: boolean;
  #signal: AbortSignal | null = null;
  #handler: ReceiveHandler | null = null;

  constructor(client: SQSClient) {
    this.#client = client;
    this.#cache = (client.config as { cacheMiddleware?: unknown } | undefined)?.cacheMiddleware === true;
  }

  send(command: ReceiveMessageCommand, signal: AbortSignal): Promise<ReceiveMessageCommandOutput> {
    if (!this.#cache) return this.#client.send(command, { abortSignal: signal });
    if (this.#signal !== signal || this.#handler === null) {
      // The poller keeps one signal until close(): one resolution per open period.
      this.#handler = command.resolveMiddleware(this.#client.middlewareStack, this.#client.config, { abortSignal: signal });
      this.#signal = signal;
    }
    return this.#handler(command).then((result) => result.output);
  }
}
