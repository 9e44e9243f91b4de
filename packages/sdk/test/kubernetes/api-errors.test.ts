import { describe, expect, it } from "vitest";
import { classifyApiError, parseRetryAfter, PodApiError } from "../../src/kubernetes/api-errors.js";
import { apiException } from "./helpers.js";

const statusBody = (code: number, reason: string, message: string) => ({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code });

describe("classifyApiError", () => {
  it.each([
    [401, "denied"],
    [403, "denied"],
    [404, "not-found"],
    [409, "conflict"],
    [422, "invalid"],
    [415, "invalid"],
    [429, "rate-limited"],
    [500, "unavailable"],
    [503, "unavailable"],
  ])("HTTP %i is %s", (code, kind) => {
    expect(classifyApiError("op", apiException(code, statusBody(code, "X", "m"))).kind).toBe(kind);
  });

  it("keeps the message short: operation, status, Status reason and message; the original is the cause", () => {
    const thrown = apiException(403, statusBody(403, "Forbidden", 'pods "w-1" is forbidden: User "system:serviceaccount:ns:default" cannot patch resource "pods"'));
    const error = classifyApiError("Kubernetes PATCH pod ns/w-1", thrown);
    expect(error.message).toBe(
      'Kubernetes PATCH pod ns/w-1 failed: 403 Forbidden: pods "w-1" is forbidden: User "system:serviceaccount:ns:default" cannot patch resource "pods"',
    );
    expect(error.message).not.toContain("Headers");
    expect(error.cause).toBe(thrown);
    expect(error.status).toBe(403);
  });

  it("reads Retry-After on 429 (seconds or an HTTP date)", () => {
    expect(classifyApiError("op", apiException(429, "", { "retry-after": "7" })).retryAfterMs).toBe(7000);
    const now = Date.parse("2026-01-01T00:00:00Z");
    const dated = apiException(429, "", { "Retry-After": "Thu, 01 Jan 2026 00:00:03 GMT" });
    expect(classifyApiError("op", dated, now).retryAfterMs).toBe(3000);
    expect(classifyApiError("op", apiException(429, "")).retryAfterMs).toBeUndefined();
  });

  it("a missing token file is denied; a refused connection is unavailable; our own error passes through", () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/var/run/secrets/kubernetes.io/serviceaccount/token'"), { code: "ENOENT" });
    expect(classifyApiError("op", enoent).kind).toBe("denied");
    const refused = Object.assign(new Error("request to http://127.0.0.1:1/ failed, reason: connect ECONNREFUSED"), { code: "ECONNREFUSED", type: "system" });
    expect(classifyApiError("op", refused).kind).toBe("unavailable");
    const own = new PodApiError("aborted", "x");
    expect(classifyApiError("op", own)).toBe(own);
  });
});

describe("parseRetryAfter", () => {
  it("accepts delta-seconds and dates, rejects garbage", () => {
    expect(parseRetryAfter("0")).toBe(0);
    expect(parseRetryAfter(" 12 ")).toBe(12_000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:00 GMT", Date.parse("2026-01-01T00:00:10Z"))).toBe(0);
  });
});
