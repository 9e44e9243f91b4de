import { describe, expect, it } from "vitest";
import { noopLogger, type Logger } from "../../src/logger.js";
import { closeInReverse, type Resource } from "../../src/resources/resources.js";

function recorder(order: string[], name: string, fail?: unknown): Resource {
  return {
    name,
    async close() {
      order.push(name);
      if (fail !== undefined) throw fail;
    },
  };
}

/** Keeps what was logged at error level: closeInReverse reports each failure there too. */
function recordingLogger(): { logger: Logger; errors: object[] } {
  const errors: object[] = [];
  const logger: Logger = { ...noopLogger, error: (fields) => void errors.push(typeof fields === "string" ? { msg: fields } : fields), child: () => logger };
  return { logger, errors };
}

describe("closeInReverse", () => {
  it("closes in reverse order of registration (LIFO), each one once", async () => {
    const order: string[] = [];
    const errors = await closeInReverse([recorder(order, "a"), recorder(order, "b"), recorder(order, "c")], noopLogger);
    expect(order).toEqual(["c", "b", "a"]);
    expect(errors).toEqual([]);
  });

  it("waits for each close before the next: a later-registered pool is gone before the one it uses", async () => {
    const order: string[] = [];
    const slow: Resource = {
      name: "slow",
      close: () => new Promise<void>((resolve) => setImmediate(() => (order.push("slow done"), resolve()))),
    };
    await closeInReverse([recorder(order, "first"), slow], noopLogger);
    expect(order).toEqual(["slow done", "first"]);
  });

  it("one failing close skips nothing; each failure comes back as one line naming the resource", async () => {
    const order: string[] = [];
    const { logger, errors: logged } = recordingLogger();
    const errors = await closeInReverse(
      [recorder(order, "a"), recorder(order, "b", new Error("connection reset")), recorder(order, "c"), recorder(order, "d", "plain string")],
      logger,
    );
    expect(order).toEqual(["d", "c", "b", "a"]);
    expect(errors).toEqual(["d: non-error thrown: plain string", "b: connection reset"]);
    expect(logged.map((f) => (f as { resource?: string }).resource)).toEqual(["d", "b"]);
  });

  it("does not mutate the caller's list", async () => {
    const list = [recorder([], "a"), recorder([], "b")];
    await closeInReverse(list, noopLogger);
    expect(list.map((r) => r.name)).toEqual(["a", "b"]);
  });
});
