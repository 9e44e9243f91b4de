/**
 * AWS caps a message's total visibility at 12 hours from the receive that returned it; a
 * ChangeMessageVisibility past that is rejected, and the message reappears at the cap.
 */
export const visibilityCapMs = 12 * 60 * 60 * 1000;

/** SQS counts visibility in whole seconds: round a lease up, at least 1 s. */
export function toSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * This worker's view of one receipt handle's visibility. Every time is taken before the request
 * went out, so the server's own clock (which starts later) is never behind ours: while
 * `now < visibleAt` the message is still hidden from everyone else.
 */
export class LeaseClock {
  /** When the ReceiveMessage that returned the message was sent. */
  readonly receivedAt: number;
  #visibleAt: number;

  constructor(receivedAt: number, visibilitySeconds: number) {
    this.receivedAt = receivedAt;
    this.#visibleAt = receivedAt + visibilitySeconds * 1000;
  }

  get visibleAt(): number {
    return this.#visibleAt;
  }

  /** The visibility ran out: the message may be with another worker, under another handle. */
  lapsed(now: number): boolean {
    return now >= this.#visibleAt;
  }

  remainingMs(now: number): number {
    return this.#visibleAt - now;
  }

  /** An extension to `seconds` from `now` would pass the 12-hour cap. */
  passesCap(now: number, seconds: number): boolean {
    return now + seconds * 1000 > this.receivedAt + visibilityCapMs;
  }

  /** A ChangeMessageVisibility sent at `sentAt` for `seconds` succeeded. */
  extended(sentAt: number, seconds: number): void {
    this.#visibleAt = sentAt + seconds * 1000;
  }
}

/** Visibility after a failure on receive number `attempt`: doubling from `base`, capped at `max`. */
export function failureBackoffSeconds(attempt: number, base: number, max: number): number {
  return Math.min(max, base * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
}
