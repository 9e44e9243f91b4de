import { createServer } from "node:net";

/**
 * Ports are picked at random below the kernel's ephemeral range (32768–60999 on Linux): ports from
 * that range are also handed out as source ports of outgoing connections, and RabbitMQ binds its
 * AMQP port only ~5 s after it was chosen. Below it, only explicit binds compete: our own servers
 * in other test workers (random choice, plus a retry on EADDRINUSE in each `startX`), and
 * whatever else listens on the machine (checked by binding). The default ports of the servers
 * (6379, 5672, 5432, 4566, 4369, 25672) are never in this range.
 */
const RANGE_START = 15_000;
const RANGE_END = 32_000; // exclusive

/** Ports this process has handed out, so two servers of one test file never get the same one. */
const handedOut = new Set<number>();

/** Resolves true when 127.0.0.1:port can be bound right now. */
export function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

function randomPort(span: number): number {
  return RANGE_START + Math.floor(Math.random() * (RANGE_END - RANGE_START - span));
}

/** A port on 127.0.0.1 that nothing listens on now (it may still be taken before you bind it). */
export async function freePort(): Promise<number> {
  return (await freePortRange(1))[0] as number;
}

/** `count` consecutive free ports on 127.0.0.1, e.g. RabbitMQ's CLI distribution port range. */
export async function freePortRange(count: number): Promise<number[]> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = randomPort(count);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if (ports.some((p) => handedOut.has(p))) continue;
    const free = await Promise.all(ports.map(canBind));
    if (free.every(Boolean)) {
      for (const p of ports) handedOut.add(p);
      return ports;
    }
  }
  throw new Error(`freePortRange: no ${count} free consecutive ports in ${RANGE_START}-${RANGE_END} after 100 tries`);
}
