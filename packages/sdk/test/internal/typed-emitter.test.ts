import { describe, expect, it } from "vitest";
import { TypedEmitter } from "../../src/internal/typed-emitter.js";
import type { Logger } from "../../src/logger.js";

interface Events {
  tick: { n: number };
}

function emitter(errors: unknown[] = []): TypedEmitter<Events> {
  const logger = { error: (fields: { err: unknown }) => errors.push(fields.err) } as unknown as Logger;
  return new TypedEmitter<Events>(() => logger);
}

describe("TypedEmitter", () => {
  it("calls listeners in order; one that throws is logged and the rest still run", () => {
    const errors: unknown[] = [];
    const events = emitter(errors);
    const seen: string[] = [];
    events.on("tick", ({ n }) => seen.push(`a${n}`));
    events.on("tick", () => {
      throw new Error("boom");
    });
    events.on("tick", ({ n }) => seen.push(`c${n}`));
    events.emit("tick", { n: 1 });
    events.emit("tick", { n: 2 });
    expect(seen).toEqual(["a1", "c1", "a2", "c2"]);
    expect(errors).toHaveLength(2);
  });

  it("skips a listener removed during an emit; one added during it hears the next emit", () => {
    const events = emitter();
    const seen: string[] = [];
    const late = (): void => void seen.push("late");
    let offB: () => void = () => undefined;
    events.on("tick", () => {
      seen.push("a");
      offB();
      events.on("tick", late);
    });
    offB = events.on("tick", () => seen.push("b"));
    events.emit("tick", { n: 1 });
    expect(seen).toEqual(["a"]);
    events.off("tick", late);
    events.emit("tick", { n: 2 });
    // "a" adds `late` again during this emit: it runs from the next one on.
    expect(seen).toEqual(["a", "a"]);
    events.emit("tick", { n: 3 });
    expect(seen).toEqual(["a", "a", "a", "late"]);
  });

  it("off() through the returned function and by reference both unsubscribe", () => {
    const events = emitter();
    let calls = 0;
    const listener = (): void => void calls++;
    const off = events.on("tick", listener);
    events.emit("tick", { n: 1 });
    off();
    events.emit("tick", { n: 2 });
    events.on("tick", listener);
    events.off("tick", listener);
    events.emit("tick", { n: 3 });
    expect(calls).toBe(1);
  });

  it("listens() says whether a listener is subscribed now", () => {
    const events = emitter();
    expect(events.listens("tick")).toBe(false);
    const off = events.on("tick", () => undefined);
    expect(events.listens("tick")).toBe(true);
    off();
    expect(events.listens("tick")).toBe(false);
  });
});
