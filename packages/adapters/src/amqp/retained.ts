import type { AmqpDelivery } from "./amqp-delivery.js";
import type { Link } from "./connection.js";

/**
 * Deliveries this source handed out and the broker still counts against it: the ones the runtime
 * holds (depth's inFlight) and the ones released with a delay, which stay unacked until their
 * requeue is due.
 */
export class Retained {
  readonly #outstanding = new Set<AmqpDelivery>();
  readonly #delayed = new Map<AmqpDelivery, NodeJS.Timeout>();

  get outstanding(): number {
    return this.#outstanding.size;
  }

  handedOut(delivery: AmqpDelivery): void {
    this.#outstanding.add(delivery);
  }

  settled(delivery: AmqpDelivery): void {
    this.#outstanding.delete(delivery);
  }

  releaseLater(delivery: AmqpDelivery, ms: number): void {
    const timer = setTimeout(() => {
      this.#delayed.delete(delivery);
      delivery.releaseNow();
    }, ms);
    timer.unref();
    this.#delayed.set(delivery, timer);
  }

  /** The link closed: the broker took its deliveries back. */
  forget(link: Link): void {
    for (const delivery of this.#outstanding) if (delivery.link === link) this.#outstanding.delete(delivery);
    for (const [delivery, timer] of this.#delayed) {
      if (delivery.link !== link) continue;
      clearTimeout(timer);
      this.#delayed.delete(delivery);
    }
  }

  /** Stopping: every delayed release is due now. */
  releaseAll(): void {
    for (const [delivery, timer] of this.#delayed) {
      clearTimeout(timer);
      delivery.releaseNow();
    }
    this.#delayed.clear();
  }
}
