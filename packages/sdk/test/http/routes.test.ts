import { describe, expect, it, vi } from "vitest";
import { handleAdminRequest, routePath, type AdminRequest } from "../../src/http/routes.js";
import { workerStates, type WorkerState } from "../../src/lifecycle/states.js";
import { noopLogger } from "../../src/logger.js";
import { fakeTarget, makeReport } from "./fake-target.js";

const loopback = "127.0.0.1";
const remote = "10.1.2.3";

function req(method: string, path: string, extra: Partial<AdminRequest> = {}): AdminRequest {
  return { method, path, remoteAddress: loopback, ...extra };
}

describe("probe routes", () => {
  it.each(["idle", "busy"] as const)("/readyz answers 200 while %s: busy is still ready", async (state) => {
    const res = await handleAdminRequest(req("GET", "/readyz"), fakeTarget({ state }));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ ready: true, state });
  });

  it.each(["starting", "draining", "stopped"] as const)("/readyz answers 503 (not 500) while %s", async (state) => {
    const res = await handleAdminRequest(req("GET", "/readyz"), fakeTarget({ state }));
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toEqual({ ready: false, state });
  });

  it.each(workerStates.filter((s) => s !== "stopped"))("/livez answers 200 while %s", async (state) => {
    const res = await handleAdminRequest(req("GET", "/livez"), fakeTarget({ state }));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ status: "ok", state });
  });

  it("/livez answers 503 once stopped", async () => {
    const res = await handleAdminRequest(req("GET", "/livez"), fakeTarget({ state: "stopped" }));
    expect(res.status).toBe(503);
  });

  it("every answer is uncacheable and typed", async () => {
    const target = fakeTarget();
    for (const path of ["/livez", "/readyz", "/status", "/drain", "/metrics", "/nope"]) {
      const res = await handleAdminRequest(req("GET", path), target);
      expect(res.headers["cache-control"], path).toBe("no-store");
      expect(res.headers["content-type"], path).toMatch(/^(application\/json|text\/plain)/);
    }
  });

  it("ignores the query string", async () => {
    expect(routePath("/readyz?verbose=1")).toBe("/readyz");
    const res = await handleAdminRequest(req("GET", "/readyz?verbose=1"), fakeTarget());
    expect(res.status).toBe(200);
  });
});

describe("/status", () => {
  it("is the status snapshot as JSON, every documented field present", async () => {
    const res = await handleAdminRequest(req("GET", "/status"), fakeTarget({ state: "busy" }));
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
    const body = JSON.parse(res.body) as Record<string, unknown>;
    expect(body).toMatchObject({ state: "busy", inFlight: 2, completed: 7, failed: 1, released: 2, queue: "emails" });
    expect(body["since"]).toBe("2024-01-01T00:00:00.000Z");
    expect(Object.keys(body)).toEqual(expect.arrayContaining(["drainReason", "drainDeadline", "leaseLost", "held"]));
  });
});

describe("/metrics", () => {
  it("answers the target's exposition with its content type", async () => {
    const res = await handleAdminRequest(req("GET", "/metrics"), fakeTarget());
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(res.body).toBe("quiesce_jobs_in_flight 0\n");
  });

  it("a failing scrape is a logged 500, never a rejection", async () => {
    const target = fakeTarget();
    target.metrics = () => Promise.reject(new Error("registry broke"));
    const logger = { ...noopLogger, error: vi.fn() };
    const res = await handleAdminRequest(req("GET", "/metrics"), target, logger);
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ error: "/metrics failed: registry broke" });
    expect(logger.error).toHaveBeenCalledOnce();
  });
});

describe("routing", () => {
  it("unknown paths are 404, including prototype names", async () => {
    for (const path of ["/", "/nope", "/__proto__", "/readyz/", "/constructor"]) {
      const res = await handleAdminRequest(req("GET", path), fakeTarget());
      expect(res.status, path).toBe(404);
    }
  });

  it.each([
    ["POST", "/readyz", "GET, HEAD"],
    ["DELETE", "/status", "GET, HEAD"],
    ["PUT", "/drain", "GET, POST"],
    ["HEAD", "/drain", "GET, POST"],
    ["POST", "/metrics", "GET, HEAD"],
    ["toString", "/livez", "GET, HEAD"],
  ])("%s %s is 405 with Allow: %s", async (method, path, allow) => {
    const target = fakeTarget();
    const res = await handleAdminRequest(req(method, path), target);
    expect(res.status).toBe(405);
    expect(res.headers["allow"]).toBe(allow);
    // HEAD /drain in particular must never start a drain.
    expect(target.drainCalls).toEqual([]);
  });

  it.each(["/livez", "/readyz", "/status", "/metrics"])("HEAD %s answers like GET", async (path) => {
    const target = fakeTarget();
    const head = await handleAdminRequest(req("HEAD", path), target);
    const get = await handleAdminRequest(req("GET", path), target);
    expect(head).toEqual(get);
  });

  it("a throwing status() becomes a 500", async () => {
    const target = fakeTarget();
    target.status = () => {
      throw new Error("snapshot failed");
    };
    const res = await handleAdminRequest(req("GET", "/readyz"), target);
    expect(res.status).toBe(500);
  });
});

describe("/drain", () => {
  it.each(["GET", "POST"])("%s starts the drain with reason http and answers the report", async (method) => {
    const target = fakeTarget();
    target.drainResult = Promise.resolve(makeReport({ completed: 42, path: "forced", exitCode: 143 }));
    const res = await handleAdminRequest(req(method, "/drain"), target);
    expect(res.status).toBe(200);
    expect(target.drainCalls).toEqual(["http"]);
    expect(JSON.parse(res.body)).toMatchObject({ completed: 42, path: "forced", exitCode: 143, reason: "http" });
  });

  type Case = [string, string | undefined, string | null, string | undefined, number];
  const matrix: Case[] = [
    ["loopback, no token configured", "127.0.0.1", null, undefined, 200],
    ["loopback ::1, token configured, no header", "::1", "s3cret", undefined, 200],
    ["loopback mapped, token configured, wrong header", "::ffff:127.0.0.1", "s3cret", "Bearer nope", 200],
    ["remote, no token configured", remote, null, undefined, 403],
    ["remote, no token configured, header sent anyway", remote, null, "Bearer anything", 403],
    ["remote, empty token configured", remote, "", "Bearer ", 403],
    ["remote, token, header missing", remote, "s3cret", undefined, 401],
    ["remote, token, wrong token", remote, "s3cret", "Bearer s3creT", 401],
    ["remote, token, longer token", remote, "s3cret", "Bearer s3cret-and-more", 401],
    ["remote, token, other scheme", remote, "s3cret", "Basic czNjcmV0", 401],
    ["remote, token, right token", remote, "s3cret", "Bearer s3cret", 200],
    ["remote, token, right token, lower-case scheme", remote, "s3cret", "bearer s3cret", 200],
    ["unknown address (socket gone), no token", undefined, null, undefined, 403],
  ];
  it.each(matrix)("%s → %i", async (_name, remoteAddress, token, authorization, status) => {
    const target = fakeTarget({ drainToken: token });
    const res = await handleAdminRequest(req("POST", "/drain", { remoteAddress, authorization }), target);
    expect(res.status).toBe(status);
    expect(target.drainCalls).toEqual(status === 200 ? ["http"] : []);
    if (status === 401) expect(res.headers["www-authenticate"]).toMatch(/^Bearer /);
    else expect(res.headers["www-authenticate"]).toBeUndefined();
  });

  it("a wrong token says invalid_token; a missing one does not (RFC 6750)", async () => {
    const target = fakeTarget({ drainToken: "s3cret" });
    const missing = await handleAdminRequest(req("POST", "/drain", { remoteAddress: remote }), target);
    const wrong = await handleAdminRequest(req("POST", "/drain", { remoteAddress: remote, authorization: "Bearer x" }), target);
    expect(missing.headers["www-authenticate"]).toBe('Bearer realm="quiesce"');
    expect(wrong.headers["www-authenticate"]).toBe('Bearer realm="quiesce", error="invalid_token"');
  });

  it("a refused drain is logged with the caller's address", async () => {
    const logger = { ...noopLogger, warn: vi.fn() };
    await handleAdminRequest(req("POST", "/drain", { remoteAddress: remote }), fakeTarget(), logger);
    expect(logger.warn).toHaveBeenCalledWith({ remoteAddress: remote, status: 403 }, expect.stringContaining("refused /drain"));
  });

  it("holds until the drain resolves", async () => {
    const target = fakeTarget();
    let resolve!: (value: ReturnType<typeof makeReport>) => void;
    target.drainResult = new Promise((r) => (resolve = r));
    let answered = false;
    const pending = handleAdminRequest(req("POST", "/drain"), target).then((res) => {
      answered = true;
      return res;
    });
    // Let every pending continuation run: an answer that did not wait would be there now.
    await new Promise((r) => setImmediate(r));
    expect(target.drainCalls).toEqual(["http"]);
    expect(answered).toBe(false);
    resolve(makeReport({ completed: 9 }));
    expect(JSON.parse((await pending).body)).toMatchObject({ completed: 9 });
  });
});

describe("states", () => {
  it("readyz is 200 exactly for the accepting states", async () => {
    const answers: Record<string, number> = {};
    for (const state of workerStates) {
      answers[state] = (await handleAdminRequest(req("GET", "/readyz"), fakeTarget({ state: state as WorkerState }))).status;
    }
    expect(answers).toEqual({ starting: 503, idle: 200, busy: 200, draining: 503, stopped: 503 });
  });
});
