/** What {@link withBound} resolves to when the bound came first. */
export const expired: unique symbol = Symbol("quiesce.expired");

export interface BoundOptions {
  /** Stop waiting when this aborts, too (resolves with {@link expired}). */
  readonly signal?: AbortSignal;
  /**
   * Keep the process alive while waiting. Off by default: a bound is never what keeps a process
   * running. Turn it on when the awaited work must get its chance even if nothing else is left
   * (closing a pool on the way out).
   */
  readonly keepAlive?: boolean;
}

/**
 * Await `promise` for at most `ms`: resolves with its value, or with {@link expired} once `ms`
 * passed (or `signal` aborted) first. A rejection before the bound is passed on; one after it is
 * ignored, never an unhandled rejection. The awaited work itself is not cancelled: give it a
 * signal of its own for that.
 *
 * ```ts
 * if ((await withBound(client.quit(), 2000)) === expired) client.disconnect();
 * ```
 */
export function withBound<T>(promise: PromiseLike<T>, ms: number, options: BoundOptions = {}): Promise<T | typeof expired> {
  const { signal, keepAlive = false } = options;
  if (signal?.aborted) {
    Promise.resolve(promise).catch(() => undefined);
    return Promise.resolve(expired);
  }
  return new Promise<T | typeof expired>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = (): void => {
      done();
      resolve(expired);
    };
    const timer = setTimeout(onAbort, Math.max(0, ms));
    if (!keepAlive) timer.unref();
    signal?.addEventListener("abort", onAbort, { once: true });
    Promise.resolve(promise).then(
      (value) => {
        done();
        resolve(value);
      },
      (error: unknown) => {
        done();
        reject(error as Error);
      },
    );
  });
}
