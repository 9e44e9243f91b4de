import { delimiter } from "node:path";
import type * as ClientNodeModule from "@kubernetes/client-node";
import { coerceError, MissingDependencyError } from "../errors.js";

/** The module as the SDK compiles against it (1.4.x); 2.x keeps every name used here. */
export type ClientNode = typeof ClientNodeModule;
export type KubeConfig = InstanceType<ClientNode["KubeConfig"]>;

const PACKAGE = "@kubernetes/client-node";

/**
 * Load the optional peer dependency. Only called when the Kubernetes integration is enabled, so
 * a worker outside a pod never pays for (or needs) the ~0.7 s import.
 * A missing one fails with a MissingDependencyError that says how to install it.
 */
export async function loadClientNode(importer: () => Promise<ClientNode> = () => import("@kubernetes/client-node")): Promise<ClientNode> {
  try {
    return await importer();
  } catch (thrown) {
    const error = coerceError(thrown);
    const code = (error as { code?: unknown }).code;
    if ((code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && error.message.includes(PACKAGE)) {
      throw new MissingDependencyError(
        `Kubernetes integration needs ${PACKAGE}: install @kubernetes/client-node (npm i @kubernetes/client-node), or set kubernetes: false`,
        { cause: error },
      );
    }
    // Installed but unusable: client-node 2.x imports undici 8, which needs Node 22.19+.
    throw new MissingDependencyError(
      `loading ${PACKAGE} failed: ${firstLine(error.message)} (on Node < 22.19 install @kubernetes/client-node@1)`,
      { cause: error },
    );
  }
}

export interface KubeConfigSource {
  /** A kubeconfig path, or several joined with the platform's delimiter like `KUBECONFIG`. */
  readonly kubeconfig: string | null;
  readonly inCluster: boolean;
}

/**
 * In a pod: the service account (client-node re-reads the projected token as it rotates).
 * Outside: the given kubeconfig, else the usual default (`~/.kube/config`).
 */
export function loadKubeConfig(mod: ClientNode, source: KubeConfigSource): KubeConfig {
  const kc = new mod.KubeConfig();
  if (source.kubeconfig) {
    const [first, ...rest] = source.kubeconfig.split(delimiter).filter(Boolean);
    if (first !== undefined) kc.loadFromFile(first);
    for (const file of rest) {
      const more = new mod.KubeConfig();
      more.loadFromFile(file);
      kc.mergeConfig(more);
    }
  } else if (source.inCluster) {
    kc.loadFromCluster();
  } else {
    kc.loadFromDefault();
  }
  if (!kc.getCurrentCluster()) throw new Error("kubeconfig has no current cluster");
  return kc;
}

function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
