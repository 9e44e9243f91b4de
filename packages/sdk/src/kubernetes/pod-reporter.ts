import { coerceError } from "../errors.js";
import { expired, withBound } from "../internal/bound.js";
import type { Logger } from "../logger.js";
import { annotationDiff, type AnnotationPatch, applyAnnotationPatch, isEmptyPatch } from "./annotations.js";
import { classifyApiError } from "./api-errors.js";
import type { PodSnapshot } from "./pod-api.js";

/** The reporter's narrow view of the API: one merge-patch call. */
export interface AnnotationWriter {
  patchAnnotations(patch: AnnotationPatch, timeoutMs: number, signal?: AbortSignal): Promise<PodSnapshot | undefined>;
}

export interface ReporterTuning {
  /** No two writes start closer than this. */
  readonly minIntervalMs: number;
  /** Up to this much is added to each interval, so pods that flip together don't write together. */
  readonly jitterMs: number;
  /** Every PATCH is abandoned after this long. */
  readonly requestTimeoutMs: number;
  /** First and largest wait after a 5xx, network error or timeout (doubling in between). */
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  /** A Retry-After beyond this is clamped: the mark must not stay stale for an hour. */
  readonly retryAfterMaxMs: number;
  readonly now: () => number;
  readonly random: () => number;
}

export const defaultReporterTuning: ReporterTuning = {
  minIntervalMs: 1000,
  jitterMs: 250,
  requestTimeoutMs: 5000,
  backoffInitialMs: 1000,
  backoffMaxMs: 60_000,
  retryAfterMaxMs: 300_000,
  // Late-bound so fake clocks in tests apply.
  now: () => Date.now(),
  random: () => Math.random(),
};

export type ReporterState = "on" | "off" | "stopped";

/**
 * Keeps the pod's annotations in line with the latest desired set: one PATCH in flight at a
 * time, the newest desired state written next (intermediate ones are skipped), only the keys that
 * differ, never closer than the minimum interval. Callers hand it values and walk away: nothing
 * here is awaited by a job.
 *
 * Every pod write fans out to every watcher of pods, so the interval is a floor, not a goal.
 */
export class PodReporter {
  readonly #writer: AnnotationWriter;
  readonly #logger: Logger;
  readonly #tuning: ReporterTuning;
  #state: ReporterState = "on";
  /** What the pod is known to carry; undefined when it could not be read. */
  #known: Record<string, string> | undefined;
  #desired: AnnotationPatch | undefined;
  #urgent = false;
  #inFlight: { promise: Promise<void>; controller: AbortController; patch: AnnotationPatch } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  /** Earliest start of the next write (interval, Retry-After or backoff). */
  #notBefore = -Infinity;
  #intervalUntil = -Infinity;
  #backoffMs = 0;
  #outageWarned = false;
  #ok = 0;
  #failed = 0;

  constructor(writer: AnnotationWriter, logger: Logger, known: Readonly<Record<string, string>> | undefined, tuning: Partial<ReporterTuning> = {}) {
    this.#writer = writer;
    this.#logger = logger;
    this.#known = known === undefined ? undefined : { ...known };
    this.#tuning = { ...defaultReporterTuning, ...tuning };
  }

  get state(): ReporterState {
    return this.#state;
  }

  writes(): { ok: number; failed: number } {
    return { ok: this.#ok, failed: this.#failed };
  }

  /** Whether the pod carries `value` under `key`, or a write in flight is putting it there. */
  shows(key: string, value: string): boolean {
    const sending = this.#inFlight?.patch;
    if (sending !== undefined && Object.hasOwn(sending, key)) return sending[key] === value;
    return this.#known?.[key] === value;
  }

  /**
   * The annotations the pod should carry now (latest wins). `urgent` skips the minimum interval
   * (not a Retry-After or a backoff): a draining mark is worth a write at once.
   */
  set(desired: AnnotationPatch, urgent = false): void {
    if (this.#state !== "on") return;
    this.#desired = desired;
    // Urgency belongs to the value: a busy mark that replaces a pending urgent idle keeps the spacing.
    this.#urgent = urgent;
    this.#schedule();
  }

  /**
   * No further writes, except that within `graceMs` a write in flight may land and a pending
   * draining mark (the last thing the pod says) is still sent; whatever is left then is aborted.
   */
  async stop(graceMs = 250): Promise<void> {
    if (this.#state === "stopped") return;
    const wasOn = this.#state === "on";
    this.#state = "stopped";
    this.#clearTimer();
    const until = this.#tuning.now() + graceMs;
    const inFlight = this.#inFlight;
    if (inFlight) await withAbortAt(inFlight.promise, inFlight.controller, until - this.#tuning.now());
    if (!wasOn || !this.#urgent || this.#desired === undefined) return;
    const patch = annotationDiff(this.#known, this.#desired);
    const left = until - this.#tuning.now();
    if (isEmptyPatch(patch) || left <= 0 || this.#tuning.now() < this.#notBefore) return;
    const controller = new AbortController();
    await withAbortAt(this.#write(patch, controller.signal, left), controller, left);
  }

  #schedule(): void {
    if (this.#state !== "on" || this.#inFlight || this.#desired === undefined) return;
    if (isEmptyPatch(annotationDiff(this.#known, this.#desired))) {
      this.#urgent = false;
      this.#clearTimer();
      return;
    }
    const now = this.#tuning.now();
    const at = Math.max(now, this.#urgent ? this.#notBefore : Math.max(this.#notBefore, this.#intervalUntil));
    // Draining goes out now, not on the next tick: the worker may be about to stop() us.
    if (this.#urgent && at <= now) {
      this.#clearTimer();
      this.#flush();
      return;
    }
    // An earlier timer already armed will re-check on firing; re-arming on every flip would churn.
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    this.#clearTimer();
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#flush();
    }, at - now);
    this.#timer.unref();
  }

  #flush(): void {
    if (this.#state !== "on" || this.#inFlight || this.#desired === undefined) return;
    const now = this.#tuning.now();
    if (now < this.#notBefore || (!this.#urgent && now < this.#intervalUntil)) return this.#schedule();
    const patch = annotationDiff(this.#known, this.#desired);
    if (isEmptyPatch(patch)) return this.#schedule();
    // An urgent write neither waits for the interval nor starts a new one: the next ordinary write
    // keeps its distance from the last ordinary one, so flapping stays bounded (≤ 2 writes an interval).
    if (this.#urgent) this.#urgent = false;
    else this.#intervalUntil = now + this.#tuning.minIntervalMs + this.#tuning.random() * this.#tuning.jitterMs;
    const controller = new AbortController();
    const promise = this.#write(patch, controller.signal).finally(() => {
      this.#inFlight = undefined;
      this.#schedule();
    });
    this.#inFlight = { promise, controller, patch };
  }

  async #write(patch: AnnotationPatch, signal: AbortSignal, timeoutMs = this.#tuning.requestTimeoutMs): Promise<void> {
    try {
      const pod = await this.#writer.patchAnnotations(patch, timeoutMs, signal);
      this.#ok++;
      // The server's answer is the truth (another writer may have touched the pod too).
      this.#known = pod ? { ...pod.annotations } : applyAnnotationPatch(this.#known, patch);
      this.#backoffMs = 0;
      this.#notBefore = -Infinity;
      if (this.#outageWarned) {
        this.#outageWarned = false;
        this.#logger.info("pod annotations: API server reachable again");
      }
    } catch (thrown) {
      this.#failed++;
      this.#onFailure(thrown);
    }
  }

  #onFailure(thrown: unknown): void {
    const error = classifyApiError("Kubernetes PATCH pod", coerceError(thrown));
    // After stop() nothing is retried, and a failing last write is not worth a warning.
    if (this.#state === "stopped") return;
    const now = this.#tuning.now();
    switch (error.kind) {
      case "aborted":
        return;
      case "denied":
      case "not-found":
      case "invalid":
        this.#turnOff(error);
        return;
      case "conflict":
        // A merge patch carries no resourceVersion, so this is transient: retry after the interval.
        this.#notBefore = now + this.#tuning.minIntervalMs;
        return;
      case "rate-limited": {
        const wait = error.retryAfterMs ?? this.#nextBackoff();
        this.#notBefore = now + Math.min(wait, this.#tuning.retryAfterMaxMs);
        this.#warnOutage(error, this.#notBefore - now);
        return;
      }
      case "unavailable":
        this.#notBefore = now + this.#nextBackoff();
        this.#warnOutage(error, this.#notBefore - now);
        return;
    }
  }

  #nextBackoff(): number {
    this.#backoffMs = this.#backoffMs === 0 ? this.#tuning.backoffInitialMs : Math.min(this.#tuning.backoffMaxMs, this.#backoffMs * 2);
    // Full jitter on top keeps a fleet that lost the API server together from retrying together.
    return this.#backoffMs * (0.5 + this.#tuning.random() / 2);
  }

  #warnOutage(error: Error, retryInMs: number): void {
    if (this.#outageWarned) return;
    this.#outageWarned = true;
    this.#logger.warn({ err: error, retryInMs: Math.round(retryInMs) }, "pod annotations: write failed, retrying with backoff");
  }

  #turnOff(error: Error): void {
    this.#state = "off";
    this.#clearTimer();
    this.#logger.warn(
      { err: error },
      "pod annotations off: the worker carries on, but scale-down can no longer prefer idle pods " +
        "(grant get and patch on pods to the service account, and check POD_NAME/POD_NAMESPACE)",
    );
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }
}

/** Await `promise`, aborting `controller` if it has not settled within `ms` (then wait for it to wind down). */
async function withAbortAt(promise: Promise<void>, controller: AbortController, ms: number): Promise<void> {
  if ((await withBound(promise, ms)) === expired) {
    controller.abort();
    await promise;
  }
}
