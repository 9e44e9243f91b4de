// @servers redis rabbitmq postgres fauxqs
// The shared servers test/global-setup.ts starts from the header above, reached via servers().
import { ListQueuesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { connect } from "amqplib";
import { Redis } from "ioredis";
import pg from "pg";
import { describe, expect, inject, it } from "vitest";
import { sqsClientConfig } from "../harness/fauxqs.js";
import { servers } from "../harness/servers.js";

describe("servers() in a file declaring @servers redis rabbitmq postgres fauxqs", () => {
  it("publishes every declared server, typed, identical to inject()", () => {
    const s = servers();
    expect(s.redis.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(s.rabbitmq.url).toMatch(/^amqp:\/\/guest:guest@127\.0\.0\.1:\d+$/);
    expect(s.postgres.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(s.fauxqs.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(inject("quiesceServers")).toEqual({ redis: s.redis, rabbitmq: s.rabbitmq, postgres: s.postgres, fauxqs: s.fauxqs });
    for (const name of ["redis", "rabbitmq", "postgres", "fauxqs"] as const) expect(s.has(name)).toBe(true);
  });

  it("each answers its real client", async () => {
    const s = servers();
    const redis = new Redis(s.redis.port, s.redis.host);
    try {
      expect(await redis.ping()).toBe("PONG");
    } finally {
      redis.disconnect();
    }
    const amqp = await connect(s.rabbitmq.url);
    await amqp.close();
    const client = new pg.Client({ connectionString: s.postgres.url });
    await client.connect();
    try {
      expect((await client.query<{ one: number }>("select 1 as one")).rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
    const sqs = new SQSClient(sqsClientConfig(s.fauxqs));
    try {
      await sqs.send(new ListQueuesCommand({}));
    } finally {
      sqs.destroy();
    }
  });
});
