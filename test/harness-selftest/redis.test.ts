// @servers none
// The Redis part of the harness against the real redis-server and ioredis.
import { createServer } from "node:net";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../harness/ports.js";
import { PortInUseError } from "../harness/probe.js";
import { isAlive } from "../harness/proc.js";
import { startRedis, type RedisServer } from "../harness/redis.js";
import { MissingServerError } from "../harness/server-handle.js";
import { uniqueName } from "../harness/unique.js";
import { expectNothingLeft, footprintOf } from "./leftovers.js";

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function client(server: RedisServer, commandTimeout?: number): Redis {
  const c = new Redis({ host: server.host, port: server.port, maxRetriesPerRequest: 1, ...(commandTimeout === undefined ? {} : { commandTimeout }) });
  cleanup.push(async () => c.disconnect());
  return c;
}

describe("startRedis", () => {
  it("answers PING/SET/GET on 127.0.0.1, and stop() leaves no process, dir or port", async () => {
    const t0 = performance.now();
    const server = await startRedis();
    const started = performance.now() - t0;
    expect(server.host).toBe("127.0.0.1");
    expect(server.port).not.toBe(6379);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(server.info()).toEqual({ host: "127.0.0.1", port: server.port, url: server.url });

    const c = client(server);
    expect(await c.ping()).toBe("PONG");
    const key = uniqueName("key");
    await c.set(key, "v1");
    expect(await c.get(key)).toBe("v1");
    c.disconnect();

    const footprint = footprintOf(server);
    const t1 = performance.now();
    await server.stop();
    console.log(`redis: start ${started.toFixed(0)} ms, stop ${(performance.now() - t1).toFixed(0)} ms`);
    await expectNothingLeft(footprint);
    await server.stop(); // idempotent
  });

  it("restart() comes back on the same port with a new process", async () => {
    const server = await startRedis();
    cleanup.push(() => server.stop());
    const { port, pid } = server;
    const c = client(server);
    expect(await c.ping()).toBe("PONG");

    await server.restart();
    expect(server.port).toBe(port);
    expect(server.pid).not.toBe(pid);
    expect(isAlive(pid)).toBe(false);
    // ioredis reconnects by itself to the same address.
    expect(await c.ping()).toBe("PONG");
  });

  it("pause() makes a request time out; resume() serves it again", async () => {
    const server = await startRedis();
    cleanup.push(() => server.stop());
    const c = client(server, 300);
    expect(await c.ping()).toBe("PONG");

    server.pause();
    await expect(c.ping()).rejects.toThrow(/timed out/i);
    server.resume();
    expect(await c.ping()).toBe("PONG");
  });

  it("stop() while paused still stops it", async () => {
    const server = await startRedis();
    const footprint = footprintOf(server);
    server.pause();
    await server.stop();
    await expectNothingLeft(footprint);
  });

  it("a port taken by someone else fails fast with PortInUseError and the server's log", async () => {
    const port = await freePort();
    const squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", resolve));
    cleanup.push(() => new Promise((resolve) => squatter.close(resolve)));
    const err = await startRedis({ port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortInUseError);
    expect((err as Error).message).toMatch(/redis-server exited during start-up[\s\S]*Address already in use/);
  });

  it("a missing binary fails with one line naming the Debian package", async () => {
    const err = await startRedis({ binary: "/nonexistent/redis-server" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingServerError);
    expect((err as Error).message).not.toContain("\n");
    expect((err as Error).message).toMatch(/apt-get install -y --no-install-recommends redis-server/);
  });
});
