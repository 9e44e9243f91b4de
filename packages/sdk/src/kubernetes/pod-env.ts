import { readFileSync } from "node:fs";

/**
 * Pod detection without client-node, so config resolution can call it cheaply before deciding
 * whether to load the integration at all.
 */

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The kubelet sets KUBERNETES_SERVICE_HOST in every container, even with `enableServiceLinks: false`. */
export function isInPod(env: Readonly<Record<string, string | undefined>>): boolean {
  return Boolean(env.KUBERNETES_SERVICE_HOST);
}

/**
 * The namespace file of the mounted service account: the fallback when POD_NAMESPACE is not set
 * through the Downward API. Undefined when absent (automountServiceAccountToken: false, or not in a pod).
 */
export function readServiceAccountNamespace(dir: string = SERVICE_ACCOUNT_DIR): string | undefined {
  try {
    const value = readFileSync(`${dir}/namespace`, "utf8").trim();
    return value === "" ? undefined : value;
  } catch {
    return undefined;
  }
}
