import type { Logger } from "../logger.js";

type Listener<T> = (payload: T) => void;

/** One event's listeners: the set that decides membership, and an array to walk it cheaply. */
interface Listeners {
  readonly set: Set<Listener<never>>;
  /** The set as an array, rebuilt on the first emit after a change; null until then. */
  list: Listener<never>[] | null;
}

/**
 * A small typed emitter. Listeners run synchronously in order; one that throws is logged and
 * never breaks the loop that emitted.
 */
export class TypedEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Listeners>();
  readonly #logger: () => Logger;

  constructor(logger: () => Logger) {
    this.#logger = logger;
  }

  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    let entry = this.#listeners.get(name);
    if (!entry) this.#listeners.set(name, (entry = { set: new Set(), list: null }));
    entry.set.add(listener as Listener<never>);
    entry.list = null;
    return () => this.off(name, listener);
  }

  off<K extends keyof Events>(name: K, listener: Listener<Events[K]>): void {
    const entry = this.#listeners.get(name);
    if (entry?.set.delete(listener as Listener<never>)) entry.list = null;
  }

  /** Whether `name` has a listener now: lets a hot path skip building a payload nobody hears. */
  listens(name: keyof Events): boolean {
    return (this.#listeners.get(name)?.set.size ?? 0) > 0;
  }

  emit<K extends keyof Events>(name: K, payload: Events[K]): void {
    const entry = this.#listeners.get(name);
    if (!entry || entry.set.size === 0) return;
    // Walked by index, with neither a copy nor an iterator per emit: this runs several times per
    // job. A listener removed meanwhile is skipped; one added meanwhile hears the next emit.
    const list = (entry.list ??= [...entry.set]);
    for (let i = 0; i < list.length; i++) {
      const listener = list[i] as Listener<Events[K]>;
      if (entry.list !== list && !entry.set.has(listener as Listener<never>)) continue;
      try {
        listener(payload);
      } catch (error) {
        this.#logger().error({ err: error, event: String(name) }, "event listener threw");
      }
    }
  }
}
