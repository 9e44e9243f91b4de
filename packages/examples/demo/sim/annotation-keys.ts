/** The pod annotations the controller reads (the worker writes them; the SDK's contract names them). */
export const DELETION_COST = "controller.kubernetes.io/pod-deletion-cost";
export const STATE = "quiesce.dev/state";
