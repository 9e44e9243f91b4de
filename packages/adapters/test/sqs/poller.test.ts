import type { Message } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { LeaseClock } from "../../src/sqs/lease-clock.js";
import { Poller, type PollerContext } from "../../src/sqs/poller.js";
import { SqsDelivery, type DeliveryHost } from "../../src/sqs/sqs-delivery.js";

const host = { releaseMode: "visibility", maxReceiveCount: null, backoff: { baseSeconds: 1, maxSeconds: 900 } } as unknown as DeliveryHost;

function delivery(id: string, group?: string, receivedAt = Date.now()): SqsDelivery {
  const message: Message = { MessageId: id, ReceiptHandle: `rh-${id}`, Body: "{}", Attributes: group ? { MessageGroupId: group } : {} };
  return new SqsDelivery(message, new LeaseClock(receivedAt, 30), host, JSON.parse);
}

/** A poller over scripted poll answers (what real SQS may return: several messages of one FIFO group). */
function poller(answers: SqsDelivery[][]) {
  const log: string[] = [];
  const ctx: PollerContext = {
    poll: async (max) => {
      log.push(`poll ${max}`);
      return answers.shift() ?? new Promise<SqsDelivery[]>(() => undefined);
    },
    giveBack: async (d) => void log.push(`give back ${d.id}`),
    renew: async (d, seconds) => (log.push(`renew ${d.id} ${seconds}`), true),
    batchSize: null,
    leaseMs: 30_000,
  };
  return { p: new Poller(ctx), log };
}

const signal = (): AbortSignal => AbortSignal.timeout(200);
const ids = (list: SqsDelivery[]): string[] => list.map((d) => d.id);

describe("Poller (FIFO group gate)", () => {
  it("hands out one message per group; the next of a group goes out once the first is acked", async () => {
    const [a1, a2, a3, b1] = [delivery("a1", "a"), delivery("a2", "a"), delivery("a3", "a"), delivery("b1", "b")];
    const { p } = poller([[a1, a2, a3, b1]]);
    expect(ids(await p.take(5, signal()))).toEqual(["a1", "b1"]);
    expect(await p.take(3, signal())).toEqual([]);
    p.settled(a1, true);
    expect(ids(await p.take(3, signal()))).toEqual(["a2"]);
  });

  it("renews what waits behind a group with its head; a released head hands the rest of its group back", async () => {
    const [a1, a2, a3] = [delivery("a1", "a"), delivery("a2", "a"), delivery("a3", "a")];
    const { p, log } = poller([[a1, a2, a3]]);
    expect(ids(await p.take(5, signal()))).toEqual(["a1"]);
    p.renewGroup("a", 30);
    p.settled(a1, false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(["poll 5", "renew a2 30", "renew a3 30", "give back a2", "give back a3"]);
  });

  it("a holder whose visibility ran out frees its group, and what waited behind it goes back", async () => {
    const at = Date.now();
    const [a1, a2, again] = [delivery("a1", "a", at), delivery("a2", "a", at), delivery("a1-again", "a")];
    const { p, log } = poller([[a1, a2], [again]]);
    expect(ids(await p.take(5, signal()))).toEqual(["a1"]);
    // Its renewals failed unnoticed: the visibility ran out, SQS shows the group's head again.
    a1.clock.extended(Date.now() - 31_000, 30);
    expect(ids(await p.take(5, signal()))).toEqual(["a1-again"]);
    expect(log).toEqual(["poll 5", "give back a2", "poll 5"]);
  });

  it("standard queues: no gate; close() hands back everything held", async () => {
    const [m1, m2, m3] = [delivery("m1"), delivery("m2"), delivery("m3")];
    const { p, log } = poller([[m1, m2, m3]]);
    expect(ids(await p.take(2, signal()))).toEqual(["m1", "m2"]);
    await p.close();
    expect(log).toContain("give back m3");
    expect(await p.take(1, signal())).toEqual([]);
  });
});

describe("Poller (polls sized to the slots about to free)", () => {
  const batch = (prefix: string, n: number): SqsDelivery[] => Array.from({ length: n }, (_, i) => delivery(`${prefix}${i}`));
  const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  it("once a full poll's worth of jobs is settling, the next poll goes out before the runtime asks, and never for more than those slots", async () => {
    const first = batch("a", 10);
    const { p, log } = poller([first, batch("b", 10)]);
    p.setCapacity(10);
    const taken = await p.take(10, signal());
    expect(taken).toHaveLength(10);
    // Five settling: five slots about to free, not a full poll's worth.
    for (const d of taken.slice(0, 5)) p.finishing(d);
    await turn();
    expect(log).toEqual(["poll 10"]);
    for (const d of taken.slice(5)) p.finishing(d);
    await turn();
    expect(log).toEqual(["poll 10", "poll 10"]);
    // The runtime asks once the settles answered: the poll is already in flight (or back), no third one.
    for (const d of taken) p.settled(d, true);
    expect(ids(await p.take(10, signal()))).toEqual(Array.from({ length: 10 }, (_, i) => `b${i}`));
    expect(log).toEqual(["poll 10", "poll 10"]);
  });

  it("without the worker's concurrency, or once closed, nothing is polled ahead", async () => {
    const unsized = poller([batch("a", 10)]);
    const taken = await unsized.p.take(10, signal());
    for (const d of taken) unsized.p.finishing(d);
    await turn();
    expect(unsized.log).toEqual(["poll 10"]);

    const closing = poller([batch("c", 10)]);
    closing.p.setCapacity(10);
    const held = await closing.p.take(10, signal());
    await closing.p.close();
    for (const d of held) closing.p.finishing(d);
    await turn();
    expect(closing.log).toEqual(["poll 10"]);
  });
});
