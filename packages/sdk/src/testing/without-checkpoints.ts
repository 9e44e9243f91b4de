import type { Delivery, Source } from "../source/source.js";

/**
 * The same source with the checkpoint capability taken off its deliveries, as a backend that has
 * none would be: to test a checkpoint store alone. Everything else passes through.
 */
export function withoutCheckpoints<S extends Source>(source: S): S {
  return new Proxy(source, {
    get(target, key, receiver) {
      if (key !== "receive") {
        const value: unknown = Reflect.get(target, key, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      }
      return async (max: number, signal: AbortSignal): Promise<Delivery[]> =>
        (await target.receive(max, signal)).map(
          (d): Delivery => ({
            id: d.id,
            payload: d.payload,
            attempt: d.attempt,
            extend: (ms) => d.extend(ms),
            ack: (result) => d.ack(result),
            release: (options) => d.release(options),
            fail: (error) => d.fail(error),
          }),
        );
    },
  });
}
