import { request as httpRequest, Agent, type IncomingHttpHeaders } from "node:http";
import { networkInterfaces } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { AdminServer, type AdminAddress } from "../../src/http/server.js";
import { deferred } from "../../src/internal/timers.js";
import type { DrainReport } from "../../src/lifecycle/status.js";
import { noopLogger, type Logger } from "../../src/logger.js";
import { fakeTarget, makeReport, type FakeTarget } from "./fake-target.js";

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Call {
  reply: Promise<Reply>;
  /** Hang up before the answer. */
  abort(): void;
}

function call(
  address: AdminAddress,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string; agent?: Agent; host?: string } = {},
): Call {
  const req = httpRequest({
    host: options.host ?? "127.0.0.1",
    port: address.port,
    method,
    path,
    headers: options.headers,
    agent: options.agent ?? false,
  });
  const reply = new Promise<Reply>((resolve, reject) => {
    req.on("error", reject);
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
  });
  req.end(options.body);
  return { reply, abort: () => req.destroy() };
}

/** A target whose drain() is held until `release` is called, and which reports each call. */
function heldTarget(): FakeTarget & { release(report: DrainReport): void; calls(n: number): Promise<void> } {
  const target = fakeTarget();
  const held = deferred<DrainReport>();
  target.drainResult = held.promise;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const drain = target.drain.bind(target);
  target.drain = (reason) => {
    const result = drain(reason);
    for (const w of waiters) if (target.drainCalls.length >= w.n) w.resolve();
    return result;
  };
  return Object.assign(target, {
    release: held.resolve,
    calls: (n: number) =>
      target.drainCalls.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
  });
}

const servers: AdminServer[] = [];
async function start(target: FakeTarget, options: { closeTimeoutMs?: number; maxBodyBytes?: number; host?: string } = {}, logger: Logger = noopLogger) {
  const server = new AdminServer(target, { port: 0, host: options.host ?? "127.0.0.1", ...options }, logger);
  servers.push(server);
  const address = await server.listen();
  return { server, address };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe("AdminServer", () => {
  it("listens on port 0, reports the real port and answers over HTTP", async () => {
    const { server, address } = await start(fakeTarget({ state: "busy" }));
    expect(address.port).toBeGreaterThan(0);
    expect(address.host).toBe("127.0.0.1");
    expect(server.address).toEqual(address);
    const ready = await call(address, "GET", "/readyz").reply;
    expect(ready.status).toBe(200);
    expect(ready.headers["cache-control"]).toBe("no-store");
    expect(ready.headers["content-length"]).toBe(String(Buffer.byteLength(ready.body)));
    expect(JSON.parse(ready.body)).toEqual({ ready: true, state: "busy" });
  });

  it("answers 404, 405 with Allow, and HEAD without a body", async () => {
    const { address } = await start(fakeTarget());
    expect((await call(address, "GET", "/nope").reply).status).toBe(404);
    const wrong = await call(address, "DELETE", "/drain").reply;
    expect(wrong.status).toBe(405);
    expect(wrong.headers["allow"]).toBe("GET, POST");
    const get = await call(address, "GET", "/status").reply;
    const head = await call(address, "HEAD", "/status").reply;
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
    expect(head.headers["content-length"]).toBe(String(Buffer.byteLength(get.body)));
  });

  it("does not construct anything before listen(), and close() before listen() resolves", async () => {
    const server = new AdminServer(fakeTarget(), { port: 0, host: "127.0.0.1" });
    expect(server.address).toBeNull();
    const closing = server.close();
    expect(server.close()).toBe(closing);
    await closing;
    await expect(server.listen()).rejects.toThrow(/closed/);
  });

  it("a port already in use rejects listen() naming the address", async () => {
    const { address } = await start(fakeTarget());
    const second = new AdminServer(fakeTarget(), { port: address.port, host: "127.0.0.1" });
    await expect(second.listen()).rejects.toThrow(`admin HTTP server listen on 127.0.0.1:${address.port} failed`);
    await second.close();
  });

  it("holds /drain until the drain resolves, then answers the report", async () => {
    const target = heldTarget();
    const { address } = await start(target);
    let answered = false;
    const drain = call(address, "POST", "/drain");
    void drain.reply.then(() => (answered = true));
    await target.calls(1);
    // A full round trip on another connection: an early /drain answer would have arrived by now.
    expect((await call(address, "GET", "/livez").reply).status).toBe(200);
    expect(answered).toBe(false);
    target.release(makeReport({ completed: 5 }));
    const reply = await drain.reply;
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ completed: 5, reason: "http" });
    expect(target.drainCalls).toEqual(["http"]);
  });

  it("two concurrent /drain callers (POST and kubelet GET) both get the same report", async () => {
    const target = heldTarget();
    const { address } = await start(target);
    const first = call(address, "POST", "/drain");
    const second = call(address, "GET", "/drain");
    await target.calls(2);
    target.release(makeReport({ completed: 3, durationMs: 77 }));
    const [a, b] = await Promise.all([first.reply, second.reply]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.body).toBe(b.body);
    expect(JSON.parse(a.body)).toMatchObject({ completed: 3, durationMs: 77 });
  });

  it("close() lets a held /drain finish, even when called the moment the drain resolves", async () => {
    const target = heldTarget();
    const { server, address } = await start(target, { closeTimeoutMs: 30_000 });
    const drain = call(address, "POST", "/drain");
    await target.calls(1);
    // The worker's order: the drain resolves, then the servers close.
    target.release(makeReport({ completed: 11 }));
    const closed = server.close();
    const reply = await drain.reply;
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ completed: 11 });
    await closed;
    expect(server.address).toBeNull();
  });

  it("close() waits for a held /drain that resolves later, and refuses new connections meanwhile", async () => {
    const target = heldTarget();
    const { server, address } = await start(target, { closeTimeoutMs: 30_000 });
    const drain = call(address, "POST", "/drain");
    await target.calls(1);
    let closedYet = false;
    const closed = server.close().then(() => (closedYet = true));
    await expect(call(address, "GET", "/livez").reply).rejects.toThrow(/ECONNREFUSED/);
    expect(closedYet).toBe(false);
    target.release(makeReport());
    expect((await drain.reply).status).toBe(200);
    await closed;
    expect(closedYet).toBe(true);
  });

  it("close() destroys a response still unfinished after closeTimeoutMs", async () => {
    const target = heldTarget(); // never released
    const { server, address } = await start(target, { closeTimeoutMs: 20 });
    const drain = call(address, "POST", "/drain");
    await target.calls(1);
    await server.close();
    await expect(drain.reply).rejects.toThrow(/socket hang up|ECONNRESET/);
  });

  it("close() does not wait for idle keep-alive connections", { timeout: 3000 }, async () => {
    const agent = new Agent({ keepAlive: true });
    const { server, address } = await start(fakeTarget());
    expect((await call(address, "GET", "/livez", { agent }).reply).status).toBe(200);
    // keepAliveTimeout is 5 s; the test timeout is shorter, so this only passes if idle sockets are closed.
    await server.close();
    agent.destroy();
  });

  it("a /drain caller that hangs up cancels nothing: the drain completes and the server keeps serving", async () => {
    const target = heldTarget();
    const wentAway = deferred<void>();
    const logger: Logger = {
      ...noopLogger,
      debug: (_fields, message) => {
        if (message?.includes("went away")) wentAway.resolve();
      },
    };
    const { server, address } = await start(target, {}, logger);
    const drain = call(address, "POST", "/drain");
    const rejected = drain.reply.catch((error: unknown) => error);
    await target.calls(1);
    drain.abort();
    await wentAway.promise;
    expect(await rejected).toBeInstanceOf(Error);
    target.release(makeReport());
    // The server answers the next caller, with the same finished drain, and closes cleanly.
    const again = await call(address, "GET", "/drain").reply;
    expect(again.status).toBe(200);
    expect(target.drainCalls).toEqual(["http", "http"]);
    await server.close();
  });

  it("refuses a large request body with 413 and starts no drain", async () => {
    const target = heldTarget();
    const { address } = await start(target, { maxBodyBytes: 16 });
    const reply = await call(address, "POST", "/drain", { body: "x".repeat(100) }).reply;
    expect(reply.status).toBe(413);
    expect(target.drainCalls).toEqual([]);
    // A small body is read and ignored.
    target.release(makeReport());
    expect((await call(address, "POST", "/drain", { body: "{}" }).reply).status).toBe(200);
  });

  it("serves /metrics with the target's content type", async () => {
    const { address } = await start(fakeTarget());
    const reply = await call(address, "GET", "/metrics").reply;
    expect(reply.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(reply.body).toBe("quiesce_jobs_in_flight 0\n");
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i?.family === "IPv4" && !i.internal)?.address;

  it.skipIf(external === undefined)("applies drain auth to a real non-loopback connection", async () => {
    const target = fakeTarget({ drainToken: "s3cret" });
    const { address } = await start(target, { host: "0.0.0.0" });
    const host = external ?? "";
    expect((await call(address, "POST", "/drain", { host }).reply).status).toBe(401);
    const wrong = await call(address, "POST", "/drain", { host, headers: { authorization: "Bearer nope" } }).reply;
    expect(wrong.status).toBe(401);
    expect(wrong.headers["www-authenticate"]).toContain("invalid_token");
    expect((await call(address, "POST", "/drain", { host, headers: { authorization: "Bearer s3cret" } }).reply).status).toBe(200);
    target.drainToken = null;
    expect((await call(address, "POST", "/drain", { host }).reply).status).toBe(403);
    expect((await call(address, "POST", "/drain").reply).status).toBe(200); // loopback
    expect(target.drainCalls).toEqual(["http", "http"]);
  });
});
