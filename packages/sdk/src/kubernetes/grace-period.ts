import { recommendedGraceSeconds } from "../drain/policy.js";
import type { Logger } from "../logger.js";

export { recommendedGraceSeconds };

/** Whether `specGraceMs` is too short for jobs with this p99; undefined when it cannot tell yet. */
export function graceTooShort(specGraceMs: number | undefined, p99Ms: number | undefined, safetyMarginMs: number): boolean | undefined {
  if (specGraceMs === undefined || p99Ms === undefined) return undefined;
  return specGraceMs < p99Ms + safetyMarginMs;
}

/**
 * Warns once when the pod's grace period is shorter than the jobs need. Checked at start and on
 * each return to idle (cheap, and by then a fresh p99 is available), never again after warning.
 */
export class GraceAdvisor {
  readonly #logger: Logger;
  readonly #p99: () => number | undefined;
  readonly #safetyMarginMs: number;
  #warned = false;

  constructor(logger: Logger, p99: () => number | undefined, safetyMarginMs: number) {
    this.#logger = logger;
    this.#p99 = p99;
    this.#safetyMarginMs = safetyMarginMs;
  }

  get warned(): boolean {
    return this.#warned;
  }

  check(specGraceMs: number | undefined): void {
    if (this.#warned) return;
    const p99Ms = this.#p99();
    if (graceTooShort(specGraceMs, p99Ms, this.#safetyMarginMs) !== true || p99Ms === undefined || specGraceMs === undefined) return;
    this.#warned = true;
    const recommended = recommendedGraceSeconds(p99Ms, this.#safetyMarginMs);
    this.#logger.warn(
      {
        terminationGracePeriodSeconds: specGraceMs / 1000,
        p99JobSeconds: Math.round(p99Ms / 100) / 10,
        safetyMarginMs: this.#safetyMarginMs,
        recommendedGraceSeconds: recommended,
      },
      `terminationGracePeriodSeconds (${specGraceMs / 1000} s) is shorter than the p99 job duration plus the safety margin: ` +
        `long jobs will be released on SIGTERM; set it to at least ${recommended} s (see quiesce_recommended_grace_seconds)`,
    );
  }
}
