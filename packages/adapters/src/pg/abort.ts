/**
 * What a query follows to know it must stop: a job (through `onAbort`, which never makes the
 * job's AbortSignal) or any AbortSignal a caller passes.
 */
export interface AbortSource {
  /** Call `listener` once on abort (at once if already aborted); returns the unsubscribe. */
  onAbort(listener: (reason: Error) => void): () => void;
}

const noop = (): void => undefined;

export function fromSignal(signal: AbortSignal): AbortSource {
  return {
    onAbort(listener) {
      if (signal.aborted) {
        listener(abortReason(signal));
        return noop;
      }
      const onAbort = (): void => listener(abortReason(signal));
      signal.addEventListener("abort", onAbort, { once: true });
      return () => signal.removeEventListener("abort", onAbort);
    },
  };
}

export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(`aborted: ${String(reason)}`, { cause: reason });
}
