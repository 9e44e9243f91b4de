import type { PodApi, PodSnapshot } from "../config/pod-api.js";
import { classifyApiError, PodApiError } from "./api-errors.js";
import type { ClientNode, KubeConfig } from "./load-client.js";

export type { PodApi, PodSnapshot } from "../config/pod-api.js";

export interface PodRef {
  readonly podName: string;
  readonly namespace: string;
}

/**
 * CoreV1Api's object-parameter calls, the same in client-node 1.4 and 2.x. Two details:
 * - patchNamespacedPod sends `application/json-patch+json` unless told otherwise; a header
 *   middleware (`setHeaderMiddleware`, exported by both majors) makes it a merge patch.
 * - Neither major takes a timeout, but both pass `RequestContext.getSignal()` to fetch, so the
 *   same middleware sets our signal. A race with the timer still bounds the call in case an
 *   HTTP library ignores the signal.
 */
export function createPodApi(mod: ClientNode, kc: KubeConfig, ref: PodRef): PodApi {
  const api = kc.makeApiClient(mod.CoreV1Api);
  const what = `pod ${ref.namespace}/${ref.podName}`;

  const options = (header: string, value: string, signal: AbortSignal) => {
    const inner = mod.setHeaderMiddleware(header, value);
    return {
      middleware: [
        {
          pre: (context: Parameters<typeof inner.pre>[0]) => {
            context.setSignal(signal);
            return inner.pre(context);
          },
          post: (context: Parameters<typeof inner.post>[0]) => inner.post(context),
        },
      ],
      middlewareMergeStrategy: "append" as const,
    };
  };

  return {
    read: (timeoutMs, signal) =>
      bounded(`Kubernetes GET ${what}`, timeoutMs, signal, async (s) =>
        snapshot(await api.readNamespacedPod({ name: ref.podName, namespace: ref.namespace }, options("Accept", "application/json", s))),
      ),
    patchAnnotations: (patch, timeoutMs, signal) =>
      bounded(`Kubernetes PATCH ${what}`, timeoutMs, signal, async (s) =>
        snapshot(
          await api.patchNamespacedPod(
            { name: ref.podName, namespace: ref.namespace, body: { metadata: { annotations: patch } } },
            options("Content-Type", mod.PatchStrategy.MergePatch, s),
          ),
        ),
      ),
  };
}

type PodLike = {
  metadata?: { annotations?: Record<string, string>; deletionTimestamp?: Date | string; resourceVersion?: string };
  spec?: { terminationGracePeriodSeconds?: number };
};

export function snapshot(pod: PodLike): PodSnapshot {
  const grace = pod.spec?.terminationGracePeriodSeconds;
  return {
    annotations: pod.metadata?.annotations ?? {},
    terminationGracePeriodSeconds: typeof grace === "number" && Number.isFinite(grace) && grace >= 0 ? grace : undefined,
    deletionTimestamp: toEpochMs(pod.metadata?.deletionTimestamp),
    resourceVersion: pod.metadata?.resourceVersion,
  };
}

/**
 * RFC 3339 (the API server writes whole seconds, truncated, so the value is never later than the
 * real kill time); client-node deserializes it to a Date, a raw response gives the string.
 */
export function toEpochMs(value: Date | string | undefined | null): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Run `call` with a signal that aborts on timeout or on `outer`; settle no later than either. */
export function bounded<T>(
  operation: string,
  timeoutMs: number,
  outer: AbortSignal | undefined,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const fail = (error: PodApiError): void => {
      controller.abort(error);
      reject(error);
    };
    const onOuterAbort = (): void => fail(new PodApiError("aborted", `${operation} aborted`, { cause: outer?.reason }));
    const timer = setTimeout(() => fail(new PodApiError("unavailable", `${operation} timed out after ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    const cleanup = (): void => {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onOuterAbort);
    };
    if (outer?.aborted) {
      cleanup();
      onOuterAbort();
      return;
    }
    outer?.addEventListener("abort", onOuterAbort, { once: true });
    let promise: Promise<T>;
    try {
      promise = call(controller.signal);
    } catch (thrown) {
      promise = Promise.reject(thrown as Error);
    }
    promise.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (thrown: unknown) => {
        cleanup();
        // Once we aborted, the reason we gave is the answer; the library's AbortError is noise.
        reject(controller.signal.aborted ? (controller.signal.reason as unknown) : classifyApiError(operation, thrown));
      },
    );
  });
}
