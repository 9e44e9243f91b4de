import type { AnnotationPatch } from "../config/pod-api.js";

/**
 * What the worker says about itself on its own pod: pure functions, no client, no clock.
 *
 * Only the ReplicaSet controller reads the deletion cost (KEP-2255); every scaler that shrinks a
 * Deployment ends there. The eviction guards are read by the cluster autoscaler and Karpenter,
 * which otherwise drain a node under a busy worker.
 */

export const DELETION_COST = "controller.kubernetes.io/pod-deletion-cost";
export const STATE = "quiesce.dev/state";
export const SAFE_TO_EVICT = "cluster-autoscaler.kubernetes.io/safe-to-evict";
export const DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt";

/** What the pod is reported as; `busy` only after the hysteresis says so. */
export type ReportedPhase = "idle" | "busy" | "draining";

export type { AnnotationPatch };

export interface AnnotationSwitches {
  readonly safeToEvict: boolean;
  readonly doNotDisrupt: boolean;
}

/**
 * The busy spell is measured in steps of this many ms: the cost doubles each time the spell
 * doubles past it, so a job of length T costs O(log T) writes, and the first minute costs none
 * beyond the busy mark itself.
 */
export const COST_STEP_MS = 60_000;
/** 2^20 steps is about two years of one busy spell; far below int32, and leaves room above for operators. */
export const MAX_COST_EXPONENT = 20;

/**
 * The deletion cost for a busy spell that has lasted `spellMs`: 1 for the first step, then 2, 4,
 * 8… as the spell doubles, capped. Coarse on purpose: the value only ranks busy pods against each
 * other (a longer spell has more work to lose), and every change is a pod write.
 */
export function deletionCost(spellMs: number, stepMs: number = COST_STEP_MS): number {
  const steps = Math.floor(Math.max(0, spellMs) / stepMs);
  if (steps < 1) return 1;
  return 2 ** Math.min(MAX_COST_EXPONENT, Math.floor(Math.log2(steps)) + 1);
}

/** The spell length (ms) at which {@link deletionCost} next changes, or undefined once capped. */
export function nextCostChangeAfter(spellMs: number, stepMs: number = COST_STEP_MS): number | undefined {
  const cost = deletionCost(spellMs, stepMs);
  if (cost >= 2 ** MAX_COST_EXPONENT) return undefined;
  // cost 1 covers [0, 1 step); cost 2^k covers [2^(k-1), 2^k) steps.
  return cost * stepMs;
}

/**
 * The annotations the pod should carry. Keys mapped to `null` should be absent; keys left out
 * are not ours to touch in that phase (a draining pod keeps its guards as they were: it is going
 * away, and dropping them would only invite an eviction that cuts the drain short).
 */
export function desiredAnnotations(phase: ReportedPhase, cost: number, switches: AnnotationSwitches): AnnotationPatch {
  switch (phase) {
    case "idle":
      return {
        [STATE]: "idle",
        // Absent means 0: removing it keeps the pod object as small as it started.
        [DELETION_COST]: cost === 0 ? null : String(cost),
        ...(switches.safeToEvict ? { [SAFE_TO_EVICT]: null } : {}),
        ...(switches.doNotDisrupt ? { [DO_NOT_DISRUPT]: null } : {}),
      };
    case "busy":
      return {
        [STATE]: "busy",
        [DELETION_COST]: String(cost),
        ...(switches.safeToEvict ? { [SAFE_TO_EVICT]: "false" } : {}),
        ...(switches.doNotDisrupt ? { [DO_NOT_DISRUPT]: "true" } : {}),
      };
    case "draining":
      return { [STATE]: "draining" };
  }
}

/**
 * The smallest patch that takes `current` (what the pod is known to carry; `undefined` when not
 * known) to `desired`. Empty when nothing needs writing.
 */
export function annotationDiff(
  current: Readonly<Record<string, string>> | undefined,
  desired: AnnotationPatch,
): AnnotationPatch {
  const patch: AnnotationPatch = {};
  for (const [key, value] of Object.entries(desired)) {
    if (current === undefined) {
      patch[key] = value;
      continue;
    }
    const now = Object.hasOwn(current, key) ? current[key] : undefined;
    if (value === null ? now !== undefined : now !== value) patch[key] = value;
  }
  return patch;
}

/** `current` after a successful merge-patch of `patch`. */
export function applyAnnotationPatch(
  current: Readonly<Record<string, string>> | undefined,
  patch: AnnotationPatch,
): Record<string, string> {
  const next: Record<string, string> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}

export function isEmptyPatch(patch: AnnotationPatch): boolean {
  for (const _ in patch) return false;
  return true;
}
