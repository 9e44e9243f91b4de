/**
 * The drain deadline: when in-flight work must be released so it is back on the queue before the
 * grace period's SIGKILL can land. It can only move earlier (a later pod delete shortens the
 * grace period; nothing lengthens it). The timer is deliberately not unref'd: it is the one
 * thing guaranteed to end a drain whose handlers hang.
 */
export class Deadline {
  #at: number;
  #timer: NodeJS.Timeout | null = null;
  #fired = false;
  readonly #onFire: () => void;
  readonly fired: Promise<void>;

  constructor(at: number, onFire: () => void) {
    this.#at = at;
    let resolve!: () => void;
    this.fired = new Promise<void>((r) => (resolve = r));
    this.#onFire = () => {
      if (this.#fired) return;
      this.#fired = true;
      this.cancel();
      resolve();
      onFire();
    };
    this.#arm();
  }

  get at(): number {
    return this.#at;
  }

  get hasFired(): boolean {
    return this.#fired;
  }

  /** Move the deadline earlier; a later time is ignored. */
  shortenTo(at: number): boolean {
    if (this.#fired || at >= this.#at) return false;
    this.#at = at;
    this.#arm();
    return true;
  }

  /** Fire now (a second signal). */
  fireNow(): void {
    this.#onFire();
  }

  cancel(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #arm(): void {
    this.cancel();
    this.#timer = setTimeout(this.#onFire, Math.max(0, this.#at - Date.now()));
  }
}
