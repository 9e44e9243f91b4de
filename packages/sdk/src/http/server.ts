/**
 * The one probe/admin/metrics server (the README's HTTP routes) on plain node:http: five routes do not need
 * a framework. This file moves bytes and owns the socket lifecycle; what each route answers is in
 * routes.ts.
 *
 * Closing is the delicate part. A `/drain` caller (a kubelet preStop hook) holds its request until
 * the worker is drained, and the worker closes this server right after that, so close() must let
 * such a response finish rather than cut it off, yet must not wait forever on a client that keeps
 * a connection open: idle keep-alive sockets are closed at once and anything still open after
 * `closeTimeoutMs` is destroyed.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { coerceError } from "../errors.js";
import { expired, withBound } from "../internal/bound.js";
import { noopLogger, type Logger } from "../logger.js";
import { handleAdminRequest, routePath, type AdminResponse, type AdminTarget } from "./routes.js";

export type { AdminTarget } from "./routes.js";

export interface AdminServerOptions {
  /** 0 picks a free port; `listen()` returns the real one. */
  readonly port: number;
  readonly host: string;
  /** How long close() lets unfinished responses (a held /drain) complete before destroying them, in ms. @defaultValue 2000 */
  readonly closeTimeoutMs?: number;
  /** Largest request body accepted (and discarded: no route reads one), in bytes. @defaultValue 16384 */
  readonly maxBodyBytes?: number;
}

export interface AdminAddress {
  readonly port: number;
  readonly host: string;
}

const defaultCloseTimeoutMs = 2000;
const defaultMaxBodyBytes = 16 * 1024;

export class AdminServer {
  readonly #target: AdminTarget;
  readonly #options: AdminServerOptions;
  readonly #logger: Logger;
  /** Responses not yet finished: close() waits for these (up to the bound). */
  readonly #open = new Set<ServerResponse>();
  #server: Server | null = null;
  #listening: Promise<AdminAddress> | null = null;
  #address: AdminAddress | null = null;
  #closing: Promise<void> | null = null;
  #onAllFinished: (() => void) | null = null;

  /** Stores only; the port is bound by {@link listen}. */
  constructor(target: AdminTarget, options: AdminServerOptions, logger: Logger = noopLogger) {
    this.#target = target;
    this.#options = options;
    this.#logger = logger;
  }

  /** The bound address once listening, else null. */
  get address(): AdminAddress | null {
    return this.#address;
  }

  /** Bind and serve. Calling it again returns the same promise. */
  listen(): Promise<AdminAddress> {
    if (this.#closing !== null) return Promise.reject(new Error("admin HTTP server listen failed: the server was closed"));
    return (this.#listening ??= this.#listen());
  }

  /**
   * Stop accepting, close idle connections, let unfinished responses complete for up to
   * `closeTimeoutMs`, then destroy what is left. Idempotent: every caller gets the same promise.
   */
  close(): Promise<void> {
    return (this.#closing ??= this.#close());
  }

  #listen(): Promise<AdminAddress> {
    const { port, host } = this.#options;
    const server = createServer(
      // headers/requestTimeout bound how long a client may take to *send* a request (slowloris);
      // they do not limit how long a held /drain response may take.
      { headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000 },
      (req, res) => this.#onRequest(req, res),
    );
    this.#server = server;
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(new Error(`admin HTTP server listen on ${host}:${port} failed: ${error.message}`, { cause: error }));
      };
      server.once("error", onError);
      server.listen({ port, host }, () => {
        server.off("error", onError);
        server.on("error", (error) => this.#logger.error({ err: error }, "admin HTTP server error"));
        const bound = server.address() as AddressInfo;
        this.#address = { port: bound.port, host: bound.address };
        this.#logger.debug({ ...this.#address }, "admin HTTP server listening");
        resolve(this.#address);
      });
    });
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.#open.add(res);
    // 'close' follows 'finish' on success and also fires when the client hangs up first.
    res.once("close", () => {
      this.#open.delete(res);
      if (!res.writableFinished) {
        this.#logger.debug({ path: routePath(req.url ?? "/") }, "admin client went away before its answer");
      }
      this.#afterResponse();
    });

    if (!this.#limitBody(req, res)) return;

    const request = {
      method: req.method ?? "GET",
      path: req.url ?? "/",
      // Read now: once the socket closes, remoteAddress becomes undefined.
      remoteAddress: req.socket.remoteAddress,
      authorization: req.headers.authorization,
    };
    handleAdminRequest(request, this.#target, this.#logger)
      .then((response) => this.#send(res, response))
      .catch((error: unknown) => this.#logger.error({ err: coerceError(error) }, "admin HTTP response failed"));
  }

  /**
   * No route reads a body, but one left unread would stall the next request on a keep-alive
   * connection, so it is drained and dropped; past the limit the request is refused.
   */
  #limitBody(req: IncomingMessage, res: ServerResponse): boolean {
    const max = this.#options.maxBodyBytes ?? defaultMaxBodyBytes;
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > max) {
      this.#send(res, tooLarge(max), true);
      return false;
    }
    let received = 0;
    req.on("data", (chunk: Buffer) => {
      received += chunk.length;
      // A chunked body that outgrows the limit: drop the connection, nothing useful can follow.
      if (received > max) req.socket.destroy();
    });
    return true;
  }

  #send(res: ServerResponse, response: AdminResponse, closeConnection = false): void {
    // The caller hung up (a held /drain): the drain goes on, only this answer has nowhere to go.
    if (res.destroyed || res.writableEnded) return;
    const headers: Record<string, string> = {
      ...response.headers,
      "content-length": String(Buffer.byteLength(response.body)),
    };
    // While closing, no connection is kept alive for a next request that would be refused.
    if (closeConnection || this.#closing !== null) headers["connection"] = "close";
    res.writeHead(response.status, headers);
    // For HEAD, node:http sends the headers (Content-Length of the GET body included) and no body.
    res.end(response.body);
  }

  #afterResponse(): void {
    if (this.#closing === null) return;
    // A connection whose response just finished is idle now; close it rather than wait for its timeout.
    this.#server?.closeIdleConnections();
    if (this.#open.size === 0) this.#onAllFinished?.();
  }

  async #close(): Promise<void> {
    const server = this.#server;
    if (server === null) return;
    // A listen() still under way must settle first, or close() could run before the bind.
    await this.#listening?.catch(() => undefined);
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (this.#open.size > 0) {
      const finished = new Promise<void>((resolve) => (this.#onAllFinished = resolve));
      const timeoutMs = this.#options.closeTimeoutMs ?? defaultCloseTimeoutMs;
      if ((await withBound(finished, timeoutMs)) === expired) {
        this.#logger.warn({ open: this.#open.size, timeoutMs }, "admin HTTP server closing: destroying responses that did not finish in time");
      }
    }
    server.closeAllConnections();
    await closed;
    this.#address = null;
  }
}

function tooLarge(max: number): AdminResponse {
  return {
    status: 413,
    headers: { "cache-control": "no-store", "content-type": "application/json; charset=utf-8" },
    body: `${JSON.stringify({ error: `request body over ${max} bytes; no admin route reads a body` })}\n`,
  };
}
