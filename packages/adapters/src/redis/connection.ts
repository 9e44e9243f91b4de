import type { Redis, RedisOptions } from "ioredis";
import { withBound } from "@quiesce/sdk/source-kit";
import type { RedisConstructor } from "./load.js";

/**
 * The main ioredis connection of a Redis-backed source: opened (or adopted), waited for, and
 * closed without ever waiting on a dead server. Shared by the BullMQ source and the Redis-list
 * sources to come.
 */

/** The main Redis client (closed by close() only when the source opened it). */
export interface MainConnection {
  readonly client: Redis;
  /** The last error the client reported (ECONNREFUSED and the like), for messages. */
  lastError(): Error | null;
  /** Called each time the connection drops (ioredis then reconnects on its own). */
  onClose(listener: () => void): void;
  /** Detach from the client; quit it if owned. */
  close(): Promise<void>;
}

const quitBoundMs = 2_000;

/**
 * Open (options) or adopt (instance) the main connection and wait until it is ready.
 * An owned client is created lazily and torn down if it does not come up in `timeoutMs`, so a
 * failed `start()` leaves no reconnect loop behind; the runtime retries `start()` with backoff.
 */
export async function openMainConnection(
  Redis: RedisConstructor,
  source: { readonly redisOptions: RedisOptions | null; readonly client: Redis | null },
  timeoutMs: number,
): Promise<MainConnection> {
  const owned = source.client === null;
  // maxRetriesPerRequest null: a command issued while Redis restarts waits for the reconnect
  // instead of failing, which is what BullMQ's worker requires and what keeps acks from being lost.
  const options = { ...source.redisOptions, maxRetriesPerRequest: null, lazyConnect: true };
  // ioredis' own RedisOptions type declares replyMapping?: T | undefined, which its constructor
  // overloads do not accept under exactOptionalPropertyTypes.
  const client = source.client ?? new Redis(options as RedisOptions & { replyMapping?: "legacy" });
  let last: Error | null = null;
  const onError = (error: Error): void => {
    last = error;
  };
  const closeListeners: (() => void)[] = [];
  const onClose = (): void => {
    for (const listener of closeListeners) listener();
  };
  // Owned: this listener is also what keeps ioredis from printing "Unhandled error event".
  client.on("error", onError);
  client.on("close", onClose);
  const connection: MainConnection = {
    client,
    lastError: () => last,
    onClose: (listener) => void closeListeners.push(listener),
    close: async () => {
      client.off("error", onError);
      client.off("close", onClose);
      if (!owned) return;
      client.on("error", () => undefined);
      await closeClient(client);
    },
  };
  try {
    await whenReady(client, timeoutMs, () => last);
  } catch (error) {
    await connection.close();
    throw error;
  }
  return connection;
}

/** Quit politely when connected (bounded), else drop the socket: never wait on a dead server. */
export async function closeClient(client: Redis): Promise<void> {
  if (client.status === "end") return;
  if (client.status === "ready") {
    const quit = client.quit().then(
      () => true,
      () => false,
    );
    if ((await withBound(quit, quitBoundMs)) === true) return;
  }
  client.disconnect();
}

function whenReady(client: Redis, timeoutMs: number, lastError: () => Error | null): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      client.off("ready", onReady);
      client.off("error", onError);
      client.off("end", onEnd);
    };
    const fail = (reason: string): void => {
      cleanup();
      const cause = lastError();
      reject(new Error(cause ? `${reason}: ${cause.message}` : reason, { cause }));
    };
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    // The first failed attempt is reported at once: the runtime, not ioredis, owns the retry
    // schedule of start-up (and gives up with exit 1 after its limit).
    const onError = (): void => fail(`Redis at ${address(client)} is not reachable`);
    const onEnd = (): void => fail(`the connection to Redis at ${address(client)} ended`);
    const timer = setTimeout(() => fail(`Redis at ${address(client)} was not ready within ${timeoutMs} ms`), timeoutMs);
    timer.unref();
    client.on("ready", onReady);
    client.on("error", onError);
    client.on("end", onEnd);
    if (client.status === "wait") client.connect().catch(() => undefined);
  });
}

export function address(client: Redis): string {
  const options = client.options as Partial<RedisOptions> & { path?: string };
  if (options.path) return options.path;
  return `${options.host ?? "localhost"}:${options.port ?? 6379}`;
}
