// @servers none
// The RabbitMQ part of the harness against the real broker and amqplib: a private node with its
// own epmd, on loopback only.
import { connect, type ChannelModel } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { isAlive, listProcesses, listeningSockets } from "../harness/proc.js";
import { startRabbitmq, type RabbitmqServer } from "../harness/rabbitmq.js";
import { uniqueName } from "../harness/unique.js";
import { expectNothingLeft } from "./leftovers.js";

describe("startRabbitmq", () => {
  let server: RabbitmqServer;
  let startMs = 0;
  beforeAll(async () => {
    const t0 = performance.now();
    server = await startRabbitmq();
    startMs = performance.now() - t0;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("publishes and gets a message through a queue on 127.0.0.1", async () => {
    expect(server.port).not.toBe(5672);
    expect(server.url).toBe(`amqp://guest:guest@127.0.0.1:${server.port}`);
    const conn = await connect(server.url);
    try {
      const ch = await conn.createChannel();
      const queue = uniqueName("q");
      await ch.assertQueue(queue, { durable: false });
      ch.sendToQueue(queue, Buffer.from("hello"));
      const msg = await pollUntil(() => ch.get(queue, { noAck: true }), { message: `a message on ${queue}` });
      expect(msg.content.toString()).toBe("hello");
    } finally {
      await conn.close();
    }
  });

  it("listens on loopback only: no broker, distribution or epmd socket on 0.0.0.0", async () => {
    const ours = listProcesses().filter((p) => p.pgid === server.pid || p.pid === server.epmdPid).map((p) => p.pid);
    const sockets = listeningSockets(ours);
    const ports = new Set(sockets.map((s) => s.port));
    for (const port of [server.port, Number(server.ctlEnv["RABBITMQ_DIST_PORT"]), Number(server.ctlEnv["ERL_EPMD_PORT"])]) {
      expect(ports, `something listens on ${port}`).toContain(port);
    }
    expect(sockets.filter((s) => s.address !== "127.0.0.1" && s.address !== "::1")).toEqual([]);
  });

  it("closeConnections() closes the clients' connections (broker-side fault)", async () => {
    const conn: ChannelModel = await connect(server.url);
    const closed = new Promise<unknown>((resolve) => conn.on("close", resolve));
    conn.on("error", () => undefined); // a broker-forced close is also reported as an error
    await server.closeConnections("selftest");
    await closed;
  });

  it("restart() keeps the port, the node and its durable messages", async () => {
    const queue = uniqueName("durable");
    const before = await connect(server.url);
    try {
      const ch = await before.createConfirmChannel();
      await ch.assertQueue(queue, { durable: true });
      ch.sendToQueue(queue, Buffer.from("kept"), { persistent: true });
      await ch.waitForConfirms();
    } finally {
      await before.close();
    }
    const { port, pid, epmdPid } = server;
    await server.restart();
    expect(server.port).toBe(port);
    expect(server.pid).not.toBe(pid);
    expect(server.epmdPid).toBe(epmdPid); // epmd lives on across broker restarts
    expect(isAlive(pid)).toBe(false);
    const after = await connect(server.url);
    try {
      const ch = await after.createChannel();
      const msg = await pollUntil(() => ch.get(queue, { noAck: true }), { message: `the durable message on ${queue}` });
      expect(msg.content.toString()).toBe("kept");
    } finally {
      await after.close();
    }
  });

  it("stop() ends broker, its helpers and epmd, and frees every port", async () => {
    const pid = server.pid;
    const epmdPid = server.epmdPid;
    const dir = server.dir;
    const port = server.port;
    const epmdPort = Number(server.ctlEnv["ERL_EPMD_PORT"]);
    const distPort = Number(server.ctlEnv["RABBITMQ_DIST_PORT"]);
    const t0 = performance.now();
    await server.stop();
    console.log(`rabbitmq: start ${startMs.toFixed(0)} ms, stop ${(performance.now() - t0).toFixed(0)} ms`);
    expect(isAlive(epmdPid)).toBe(false);
    await expectNothingLeft({ pids: [pid, epmdPid], dir, ports: [port, epmdPort, distPort] });
  });
});
