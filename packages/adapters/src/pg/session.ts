import type { PoolClient, QueryConfig, QueryResult, QueryResultRow } from "pg";
import type { Logger } from "@quiesce/sdk";
import type { AbortSource } from "./abort.js";
import { sendCancelRequest, type CancelTarget } from "./cancel.js";

/** SQLSTATE 57014 query_canceled: what a query cancelled by our request fails with. */
const queryCanceled = "57014";
/** Between two cancel requests for the same query, in ms (see {@link Session.query}). */
const cancelRetryMs = 100;

/**
 * One checked-out pool client and the rule that makes it safe to hand back: a query whose signal
 * aborted is cancelled on the server, and the client is released only once that query has ended
 * and the server has handled every cancel request sent for it, so a late cancel can never hit the
 * next job's query on the same connection. A client whose cancel gets no answer, or whose
 * connection failed, is destroyed instead of going back to the pool.
 */
export class Session {
  readonly #client: PoolClient;
  readonly #cancelTimeoutMs: number;
  readonly #logger: Logger;
  #broken: Error | null = null;
  #released = false;

  constructor(client: PoolClient, cancelTimeoutMs: number, logger: Logger) {
    this.#client = client;
    this.#cancelTimeoutMs = cancelTimeoutMs;
    this.#logger = logger;
  }

  get broken(): boolean {
    return this.#broken !== null || this.#released;
  }

  /**
   * Run one query; when `abort` fires while it runs, cancel it on the server and reject with the
   * abort's reason once it has ended. Already aborted: rejects at once, nothing sent. Promise
   * chains rather than async/await, as this runs on every query.
   */
  query<R extends QueryResultRow>(text: string | QueryConfig, values: unknown[] | undefined, abort: AbortSource | undefined): Promise<QueryResult<R>> {
    let reason: Error | null = null;
    let running = false;
    let settled = false;
    let cancelling: Promise<void> | null = null;
    const unsubscribe = abort?.onAbort((why) => {
      reason = why;
      if (running && !settled) cancelling = this.#cancelUntilEnded(() => settled);
    });
    if (reason) return Promise.reject(reason as Error);
    if (this.broken) {
      unsubscribe?.();
      return Promise.reject(new Error("pgResource: this connection was closed after an earlier failure; the transaction cannot go on"));
    }
    running = true;
    const ended = (): Promise<void> | void => {
      settled = true;
      unsubscribe?.();
      return cancelling ?? undefined;
    };
    return this.#client.query<R>(text as string, values).then(
      (result) => {
        const pending = ended();
        return pending ? pending.then(() => result) : result;
      },
      (thrown: unknown) => {
        const error = thrown as Error & { code?: unknown };
        if (isConnectionFailure(error)) this.#broken ??= error;
        const pending = ended();
        // Ended by our cancel (57014), or by destroying the connection when the cancel went
        // unanswered: either way the caller asked for it, so it gets the abort's reason.
        const ours = reason !== null && pending !== undefined && (error.code === queryCanceled || this.#released);
        const fail = (): never => {
          throw ours ? (reason as Error) : thrown;
        };
        return pending ? pending.then(fail) : fail();
      },
    );
  }

  /** Roll back after a failure inside a transaction; a connection that cannot is destroyed. */
  async rollback(): Promise<void> {
    if (this.broken) return;
    try {
      await this.#client.query("ROLLBACK");
    } catch (thrown) {
      this.#broken = thrown as Error;
    }
  }

  /** Back to the pool, or destroyed when it is not known to be healthy. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#broken) this.#client.release(this.#broken);
    else this.#client.release();
  }

  /**
   * Cancel requests until the query has ended. A request that reaches the backend while it is
   * still reading the query's message is ignored by PostgreSQL (it only cancels a running
   * statement), so one request is not always enough: resend every 100 ms. Past
   * `cancelTimeoutMs` the connection is destroyed, which ends the query from our side.
   */
  async #cancelUntilEnded(ended: () => boolean): Promise<void> {
    const target = cancelTarget(this.#client);
    const giveUpAt = performance.now() + this.#cancelTimeoutMs;
    let sent = 0;
    while (!ended()) {
      const left = giveUpAt - performance.now();
      if (left <= 0 || target === null) break;
      try {
        await sendCancelRequest(target, left);
        sent++;
      } catch (thrown) {
        this.#logger.warn({ err: thrown, backend: target.processID }, "pg cancel request failed");
        break;
      }
      if (!ended()) await pause(Math.min(cancelRetryMs, Math.max(0, giveUpAt - performance.now())));
    }
    if (ended()) {
      this.#logger.debug({ backend: target?.processID, cancelRequests: sent }, "pg query cancelled on the server");
      return;
    }
    this.#broken = new Error(
      target === null
        ? "pgResource: cannot cancel on the server (the client has no backend key); connection destroyed"
        : `pgResource: the query on backend ${target.processID} did not end within ${this.#cancelTimeoutMs} ms of its cancel; connection destroyed`,
    );
    this.#logger.warn({ err: this.#broken }, "pg query not cancelled in time; destroying its connection");
    // Destroying the socket fails the pending query, whose caller then gets its rejection.
    this.release();
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** pg keeps the backend key from BackendKeyData on the client (not in its type definitions). */
function cancelTarget(client: PoolClient): CancelTarget | null {
  const c = client as PoolClient & { processID?: unknown; secretKey?: unknown; host?: unknown; port?: unknown };
  if (typeof c.processID !== "number" || typeof c.secretKey !== "number" || typeof c.port !== "number") return null;
  return { host: typeof c.host === "string" && c.host !== "" ? c.host : "localhost", port: c.port, processID: c.processID, secretKey: c.secretKey };
}

/**
 * True when the connection, not the statement, failed: no SQLSTATE at all (socket closed, timeout),
 * class 08 (connection exception) or 57P (the server shutting down or restarting).
 */
export function isConnectionFailure(error: { code?: unknown }): boolean {
  const code = error.code;
  if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return code.startsWith("08") || code.startsWith("57P");
}
