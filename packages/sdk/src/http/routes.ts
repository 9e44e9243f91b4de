/**
 * The admin routes as plain functions of (request, target) → response: no sockets, no framework,
 * so every status code and header is unit-tested without a server. `server.ts` only moves bytes.
 *
 * Probe semantics: `/readyz` means "connected and accepting work", never "idle",
 * because a not-ready pod is deleted first whatever its deletion cost; and not-ready is 503, not
 * 500, so it reads as a state rather than a crash.
 */
import { coerceError } from "../errors.js";
import type { DrainReport, WorkerStatus } from "../lifecycle/status.js";
import { isAccepting } from "../lifecycle/states.js";
import { noopLogger, type Logger } from "../logger.js";
import { authorizeDrain } from "./drain-auth.js";

/** What the admin server needs from the worker; nothing else of it is reachable over HTTP. */
export interface AdminTarget {
  status(): WorkerStatus;
  /** Starts (or joins) the drain; resolves when drained, before the server closes. */
  drain(reason: string): Promise<DrainReport>;
  metrics(): Promise<{ contentType: string; body: string }>;
  readonly drainToken: string | null;
}

export interface AdminRequest {
  readonly method: string;
  /** The request target as received (`/readyz?x=1`); the query string is ignored. */
  readonly path: string;
  readonly remoteAddress: string | undefined;
  readonly authorization?: string | undefined;
}

export interface AdminResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

type Handler = (request: AdminRequest, target: AdminTarget, logger: Logger) => AdminResponse | Promise<AdminResponse>;

/** The reason a drain started over HTTP carries, as seen in `/status` and the drain report. */
export const httpDrainReason = "http";

const jsonType = "application/json; charset=utf-8";
// Probe and status answers describe this instant; a cache (or a proxy) replaying one would lie.
const baseHeaders = { "cache-control": "no-store", "x-content-type-options": "nosniff" } as const;

function json(status: number, value: unknown, extra: Readonly<Record<string, string>> = {}): AdminResponse {
  return { status, headers: { ...baseHeaders, "content-type": jsonType, ...extra }, body: `${JSON.stringify(value)}\n` };
}

const livez: Handler = (_request, target) => {
  // The loop answers as long as the worker exists; only a stopped worker is no longer alive.
  const { state } = target.status();
  return json(state === "stopped" ? 503 : 200, { status: state === "stopped" ? "stopped" : "ok", state });
};

const readyz: Handler = (_request, target) => {
  const { state } = target.status();
  const ready = isAccepting(state);
  return json(ready ? 200 : 503, { ready, state });
};

const status: Handler = (_request, target) => json(200, target.status());

const drain: Handler = async (request, target, logger) => {
  const auth = authorizeDrain(request.remoteAddress, request.authorization, target.drainToken);
  if (!auth.ok) {
    logger.warn({ remoteAddress: request.remoteAddress, status: auth.status }, `refused /drain: ${auth.reason}`);
    const extra: Record<string, string> = auth.wwwAuthenticate === undefined ? {} : { "www-authenticate": auth.wwwAuthenticate };
    return json(auth.status, { error: auth.reason }, extra);
  }
  logger.info({ remoteAddress: request.remoteAddress }, "drain requested over HTTP; answering once drained");
  // The drain belongs to the worker, not to this request: the promise is the worker's own and a
  // caller who hangs up only loses the answer.
  const report = await target.drain(httpDrainReason);
  return json(200, report);
};

const metrics: Handler = async (_request, target) => {
  const { contentType, body } = await target.metrics();
  return { status: 200, headers: { ...baseHeaders, "content-type": contentType }, body };
};

/**
 * path → method → handler. HEAD is listed only for safe routes: answering `HEAD /drain` through
 * the GET handler would take the worker out of service for a request that means "just look".
 * `GET /drain` exists because the kubelet's preStop `httpGet` can only send GET.
 */
const routes: ReadonlyMap<string, Readonly<Partial<Record<string, Handler>>>> = new Map([
  ["/livez", { GET: livez, HEAD: livez }],
  ["/readyz", { GET: readyz, HEAD: readyz }],
  ["/status", { GET: status, HEAD: status }],
  ["/drain", { GET: drain, POST: drain }],
  ["/metrics", { GET: metrics, HEAD: metrics }],
]);

/** The path without its query string or fragment. */
export function routePath(target: string): string {
  const end = target.search(/[?#]/);
  return end === -1 ? target : target.slice(0, end);
}

/**
 * Answer one admin request. Never rejects: a failing target (status() throwing, metrics()
 * rejecting, a drain that errors) becomes a 500 with a one-line reason, logged here.
 */
export async function handleAdminRequest(
  request: AdminRequest,
  target: AdminTarget,
  logger: Logger = noopLogger,
): Promise<AdminResponse> {
  const path = routePath(request.path);
  const methods = routes.get(path);
  if (methods === undefined) return json(404, { error: `no route ${path}` });
  const handler = Object.hasOwn(methods, request.method) ? methods[request.method] : undefined;
  if (handler === undefined) {
    const allow = Object.keys(methods).join(", ");
    return json(405, { error: `${request.method} not allowed on ${path}` }, { allow });
  }
  try {
    return await handler(request, target, logger);
  } catch (thrown) {
    const error = coerceError(thrown);
    logger.error({ err: error, path, method: request.method }, "admin route failed");
    // One short line: the full error (stack, cause) is in the log, not in a probe's answer.
    const reason = error.message.split("\n", 1)[0]?.slice(0, 200) ?? "";
    return json(500, { error: `${path} failed: ${reason}` });
  }
}
