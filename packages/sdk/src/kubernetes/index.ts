/**
 * The Kubernetes integration: pod annotations and deadline discovery. The worker loads this
 * module with `await import()` only when the config enables Kubernetes, and nothing outside this
 * folder imports @kubernetes/client-node.
 */
export { createPodIntegration } from "./integration.js";
export type { PodIntegration, PodIntegrationContext } from "./integration.js";
