import { QuiesceError } from "../errors.js";

/**
 * Maps whatever a pod API call threw (client-node's ApiException, a fetch error, a file error
 * while reading the token, our own timeout) to the few cases the reporter acts on.
 */
export type PodApiFailure =
  /** 401/403 or no readable credentials: the reporter turns itself off. */
  | "denied"
  /** 404: the pod is not ours to write (wrong POD_NAME/POD_NAMESPACE). */
  | "not-found"
  /** 400/415/422: the request itself is wrong; retrying cannot help. */
  | "invalid"
  /** 409: retry soon. */
  | "conflict"
  /** 429: retry after `retryAfterMs`. */
  | "rate-limited"
  /** 5xx, connection errors, timeouts: back off and retry. */
  | "unavailable"
  /** The caller's signal aborted. */
  | "aborted";

/**
 * A failed call to the Kubernetes API, in the quiesce error family (code QUIESCE_KUBERNETES_API).
 * Short on purpose: client-node's ApiException puts the whole body and every header in its
 * message, which would flood a log line; the original stays as `cause`.
 */
export class PodApiError extends QuiesceError {
  static readonly expectedCode = "QUIESCE_KUBERNETES_API";
  readonly kind: PodApiFailure;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(kind: PodApiFailure, message: string, options: { cause?: unknown; status?: number; retryAfterMs?: number } = {}) {
    super("QUIESCE_KUBERNETES_API", message, { cause: options.cause });
    this.kind = kind;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** `operation` starts the message, e.g. "Kubernetes PATCH pod ns/name". */
export function classifyApiError(operation: string, thrown: unknown, now: number = Date.now()): PodApiError {
  if (thrown instanceof PodApiError) return thrown;
  const status = httpStatusOf(thrown);
  if (status !== undefined) {
    const detail = statusMessage(thrown);
    const message = `${operation} failed: ${status}${detail ? ` ${detail}` : ""}`;
    const opts = { cause: thrown, status };
    if (status === 401 || status === 403) return new PodApiError("denied", message, opts);
    if (status === 404) return new PodApiError("not-found", message, opts);
    if (status === 409) return new PodApiError("conflict", message, opts);
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(headerOf(thrown, "retry-after"), now);
      return new PodApiError("rate-limited", message, retryAfterMs === undefined ? opts : { ...opts, retryAfterMs });
    }
    if (status >= 500) return new PodApiError("unavailable", message, opts);
    return new PodApiError("invalid", message, opts);
  }
  const error = thrown instanceof Error ? thrown : new Error(String(thrown));
  const code = (error as { code?: unknown }).code;
  // client-node reads the service-account token (and CA) from files on each request.
  if (code === "ENOENT" || code === "EACCES" || code === "EPERM") {
    return new PodApiError("denied", `${operation} failed: no readable credentials (${error.message})`, { cause: error });
  }
  if (error.name === "AbortError") return new PodApiError("aborted", `${operation} aborted`, { cause: error });
  return new PodApiError("unavailable", `${operation} failed: ${firstLine(error.message)}`, { cause: error });
}

/** Retry-After is either delta-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function httpStatusOf(thrown: unknown): number | undefined {
  if (typeof thrown !== "object" || thrown === null) return undefined;
  const code = (thrown as { code?: unknown }).code;
  // ApiException carries the HTTP status as a number in `code` and the response headers.
  return typeof code === "number" && "headers" in thrown && code >= 100 && code < 600 ? code : undefined;
}

function headerOf(thrown: unknown, name: string): string | undefined {
  const headers = (thrown as { headers?: unknown }).headers;
  if (typeof headers !== "object" || headers === null) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && typeof value === "string") return value;
  }
  return undefined;
}

/** The `Status.message` of the body (a JSON string in client-node 1.x/2.x), when there is one. */
function statusMessage(thrown: unknown): string | undefined {
  let body = (thrown as { body?: unknown }).body;
  if (typeof body === "string") {
    const text = body;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      return firstLine(text) || undefined;
    }
  }
  if (typeof body !== "object" || body === null) return undefined;
  const { reason, message } = body as { reason?: unknown; message?: unknown };
  const parts = [typeof reason === "string" ? reason : "", typeof message === "string" ? firstLine(message) : ""];
  return parts.filter(Boolean).join(": ") || undefined;
}

function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
