import type { Logger } from "../logger.js";

type Listener<T> = (payload: T) => void;

/**
 * A small typed emitter. Listeners run synchronously in order; one that throws is logged and
 * never breaks the loop that emitted.
 */
export class TypedEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();
  readonly #logger: () => Logger;

  constructor(logger: () => Logger) {
    this.#logger = logger;
  }

  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => this.off(name, listener);
  }

  off<K extends keyof Events>(name: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(name)?.delete(listener as Listener<never>);
  }

  emit<K extends keyof Events>(name: K, payload: Events[K]): void {
    const set = this.#listeners.get(name);
    if (!set || set.size === 0) return;
    // Iterating the live Set (no copy per emit: this runs several times per job); a listener
    // removed meanwhile is skipped.
    for (const listener of set) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch (error) {
        this.#logger().error({ err: error, event: String(name) }, "event listener threw");
      }
    }
  }
}
