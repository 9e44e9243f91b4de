/**
 * The calls the Kubernetes integration makes on its own pod, as types only: they sit here, below
 * the kubernetes folder, because `kubernetes.podApi` in the options takes them.
 */

/** A merge-patch of annotations: a string sets, `null` removes (RFC 7386). */
export type AnnotationPatch = Record<string, string | null>;

/** What the integration needs to know about its own pod. */
export interface PodSnapshot {
  readonly annotations: Readonly<Record<string, string>>;
  /** spec.terminationGracePeriodSeconds, when set. */
  readonly terminationGracePeriodSeconds: number | undefined;
  /** metadata.deletionTimestamp as epoch ms: when SIGKILL may land. */
  readonly deletionTimestamp: number | undefined;
  readonly resourceVersion: string | undefined;
}

/** The two calls the integration makes; narrow so the reporter can be tested without a client. */
export interface PodApi {
  read(timeoutMs: number, signal?: AbortSignal): Promise<PodSnapshot>;
  /** Merge-patch `metadata.annotations` (null removes a key). */
  patchAnnotations(patch: AnnotationPatch, timeoutMs: number, signal?: AbortSignal): Promise<PodSnapshot>;
}

