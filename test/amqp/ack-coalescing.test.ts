// @servers rabbitmq
// Acks are coalesced into multiple acks (`basic.ack` with multiple: every unacked tag up to it).
// On the real broker: a multiple ack never takes along a message that is still running, waiting
// on a delayed release, requeued or held unstarted, and it really is used (one multiple ack for a burst of acks).
import { createAmqpSource } from "@quiesce/adapters/amqp";
import type { Delivery } from "@quiesce/sdk";
import { connect, type ChannelModel, type ConfirmChannel, type GetMessage } from "amqplib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pollUntil } from "../harness/poll-until.js";
import { servers } from "../harness/servers.js";
import { uniqueName } from "../harness/unique.js";

let admin: ChannelModel;
let channel: ConfirmChannel;
let queue: string;

beforeEach(async () => {
  admin = await connect(servers().rabbitmq.url);
  channel = await admin.createConfirmChannel();
  queue = uniqueName("ack-coalescing");
  await channel.assertQueue(queue, { durable: true });
});
afterEach(async () => {
  await channel.deleteQueue(queue);
  await admin.close();
});

async function publish(count: number): Promise<void> {
  for (let n = 1; n <= count; n++) channel.sendToQueue(queue, Buffer.from(JSON.stringify({ n })), { persistent: true, messageId: `m${n}` });
  await channel.waitForConfirms();
}

/** Receive until `count` deliveries are in hand, in delivery order. */
async function receiveAll(source: ReturnType<typeof createAmqpSource>, count: number): Promise<Delivery[]> {
  const signal = new AbortController().signal;
  const got: Delivery[] = [];
  while (got.length < count) got.push(...(await source.receive(count - got.length, signal)));
  return got;
}

/** What the queue hands a fresh consumer now (basic.get, acked), by message id. */
async function drainQueue(): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const message: GetMessage | false = await channel.get(queue, { noAck: true });
    if (message === false) return ids;
    ids.push(String(message.properties.messageId));
  }
}

interface AckCounts {
  single: number;
  multiple: number;
}

/** A connection for the source whose channels count their acks by kind (the broker is real). */
async function countingConnection(): Promise<{ connection: ChannelModel; acks: AckCounts; channels: ConfirmChannel[] }> {
  const connection = await connect(servers().rabbitmq.url);
  connection.on("error", () => undefined);
  const acks: AckCounts = { single: 0, multiple: 0 };
  const channels: ConfirmChannel[] = [];
  const create = connection.createConfirmChannel.bind(connection);
  connection.createConfirmChannel = async () => {
    const created = await create();
    channels.push(created);
    const ack = created.ack.bind(created);
    created.ack = (message, allUpTo) => {
      if (allUpTo) acks.multiple++;
      else acks.single++;
      ack(message, allUpTo);
    };
    return created;
  };
  return { connection, acks, channels };
}

describe("amqp: coalesced acks", () => {
  it("sweeps up only settled tags: a running job, a delayed release, a requeue and unstarted messages survive every multiple ack", async () => {
    await publish(12);
    const { connection, acks, channels } = await countingConnection();
    const source = createAmqpSource({ queue, connection, prefetch: 12 });
    try {
      await source.start();
      // Tags 1-10 handed out, 11 and 12 left unstarted in the source's buffer.
      const [running, delayed, requeued, ...rest] = await receiveAll(source, 10);
      expect([running, delayed, requeued].map((d) => d?.id)).toEqual(["m1", "m2", "m3"]);
      await delayed!.release({ delayMs: 60_000 });
      await requeued!.release();
      // In one turn, oldest last: 4-10 are due together behind the open tags 1 and 2.
      await Promise.all(rest.reverse().map((d) => d.ack()));
      // The running job finishes: tag 1 may be swept up now, tag 2 (the delayed release) not.
      await running!.ack();
      expect(acks.multiple).toBeGreaterThan(0);
    } finally {
      // Drop the link without letting the source settle anything more: whatever the broker still
      // counts as unacked comes back. The channel first: its close-ok follows every ack before it.
      await Promise.all(channels.map((c) => c.close().catch(() => undefined)));
      await connection.close();
      await source.stop().catch(() => undefined);
    }
    // m2 (delayed release), m3 (requeued, perhaps redelivered to the source) and the unstarted
    // m11 and m12: a multiple ack that swept any of them up would have lost it.
    await pollUntil(async () => (await channel.checkQueue(queue)).messageCount === 4, { message: "m2, m3, m11 and m12 back" });
    expect((await drainQueue()).sort()).toEqual(["m11", "m12", "m2", "m3"]);
  });

  it("acks due in one turn behind no open tag go out as one multiple ack, and are applied by the time stop() returns", async () => {
    await publish(50);
    const { connection, acks } = await countingConnection();
    const source = createAmqpSource({ queue, connection, prefetch: 50 });
    try {
      await source.start();
      const all = await receiveAll(source, 50);
      await Promise.all(all.map((d) => d.ack()));
      expect(acks).toEqual({ multiple: 1, single: 0 });
    } finally {
      await source.stop();
      await connection.close();
    }
    expect(await channel.checkQueue(queue)).toMatchObject({ messageCount: 0, consumerCount: 0 });
  });

  it("acks asked for in the turn that stop() is called in go out before the channel closes", async () => {
    await publish(3);
    const source = createAmqpSource({ queue, url: servers().rabbitmq.url, prefetch: 3 });
    await source.start();
    const deliveries = await receiveAll(source, 3);
    const acked = deliveries.map((d) => d.ack());
    await source.stop();
    await Promise.all(acked);
    expect(await channel.checkQueue(queue)).toMatchObject({ messageCount: 0, consumerCount: 0 });
  });
});
