// @servers redis
// A caller's ioredis instance: the source uses it (and BullMQ duplicates it once for its blocking
// fetch), and leaves it open and clean after stop().
import { createBullmqSource } from "@quiesce/adapters/bullmq";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { servers } from "../harness/servers.js";
import { uniqueName } from "../harness/unique.js";
import { BullmqScenario } from "./fixture.js";

let scenario: BullmqScenario | undefined;
let client: Redis | undefined;
afterEach(async () => {
  client?.disconnect();
  client = undefined;
  await scenario?.close();
  scenario = undefined;
});

describe("bullmq: a caller's connection", () => {
  it("is used, never closed, and keeps no listener of ours after stop()", async () => {
    const { port } = servers().redis;
    const s = (scenario = new BullmqScenario(port, uniqueName("shared")));
    client = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: null });
    await client.ping();
    const listeners = (): number => client!.listenerCount("error") + client!.listenerCount("close") + client!.listenerCount("ready");
    const before = listeners();

    const source = createBullmqSource({ queue: s.name, connection: client });
    await source.start();
    await s.queue.add("job", { n: 1 });
    const deliveries = await source.receive(1, AbortSignal.timeout(5_000));
    expect(deliveries.map((d) => d.payload)).toEqual([{ n: 1 }]);
    await deliveries[0]?.ack("done");
    expect(await source.depth?.()).toEqual({ waiting: 0, inFlight: 0, delayed: 0 });
    await source.stop();

    expect(client.status).toBe("ready");
    expect(await client.ping()).toBe("PONG");
    expect(listeners()).toBe(before);
    const job = await s.queue.getJob("1");
    expect(job?.returnvalue).toBe("done");
  });
});
