// @servers none
// pod-patch-policy.yaml's CEL run the way the API server runs a ValidatingAdmissionPolicy
// (matchConstraints, then matchConditions, then variables, then every validation; the binding's
// namespaceSelector), with a CEL evaluator (@bufbuild/cel), on the admission requests the worker's
// merge-patches produce and on the ones the policy exists to refuse.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { run } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { DELETION_COST, DO_NOT_DISRUPT, SAFE_TO_EVICT, STATE } from "../../packages/sdk/src/kubernetes/annotations.js";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed YAML
const file = fileURLToPath(new URL("../../packages/examples/kubernetes/pod-patch-policy.yaml", import.meta.url));
const [policy, binding] = parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS() as Obj);

const WORKER = "system:serviceaccount:quiesce-demo:quiesce-worker";

interface Request {
  readonly operation: string;
  readonly namespace: string;
  readonly username: string;
  readonly extra?: Record<string, string[]>;
  readonly oldObject: Obj;
  readonly object: Obj;
}

/** "allowed", "not matched" (the policy does not apply), or the message of the first failed validation. */
function admit(req: Request): string {
  const rule = policy!.spec.matchConstraints.resourceRules[0] as Obj;
  if (!rule.operations.includes(req.operation) || !rule.resources.includes("pods")) return "not matched";
  const namespaceLabels: Record<string, string> = { "kubernetes.io/metadata.name": req.namespace };
  const selector = binding!.spec.matchResources.namespaceSelector.matchLabels as Record<string, string>;
  if (!Object.entries(selector).every(([k, v]) => namespaceLabels[k] === v)) return "not matched";
  const bindings: Record<string, unknown> = {
    object: req.object,
    oldObject: req.oldObject,
    request: { operation: req.operation, namespace: req.namespace, userInfo: { username: req.username, extra: req.extra ?? {} } },
  };
  const cel = (expression: string): unknown => run(expression, bindings as never, { funcs: strings });
  for (const c of policy!.spec.matchConditions as Obj[]) if (cel(c.expression) !== true) return "not matched";
  const variables: Record<string, unknown> = {};
  bindings.variables = variables;
  for (const v of policy!.spec.variables as Obj[]) variables[v.name] = cel(v.expression);
  for (const v of policy!.spec.validations as Obj[]) {
    const ok = cel(v.expression);
    if (typeof ok !== "boolean") throw new Error(`${v.expression} gave ${String(ok)}, not a bool`);
    if (!ok) return v.message ?? String(cel(v.messageExpression));
  }
  return "allowed";
}

const pod = (name: string, annotations?: Record<string, string>): Obj => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name,
    namespace: "quiesce-demo",
    labels: { "app.kubernetes.io/name": "quiesce-worker", "pod-template-hash": "abc" },
    ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "quiesce-worker-abc", uid: "u1", controller: true }],
    ...(annotations ? { annotations } : {}),
  },
  spec: { serviceAccountName: "quiesce-worker", containers: [{ name: "worker", image: "quiesce-example-worker:dev" }] },
});
/** An update by the worker of pod `a`, whose bound token names `a`. */
const byWorker = (oldObject: Obj, object: Obj, extra: Record<string, string[]> = { "authentication.kubernetes.io/pod-name": ["a"] }): Request => ({
  operation: "UPDATE",
  namespace: "quiesce-demo",
  username: WORKER,
  extra,
  oldObject,
  object,
});

describe("pod-patch-policy.yaml", () => {
  it("lists exactly the annotations the pod reporter writes", () => {
    const owned = run(`(${policy!.spec.variables[0].expression as string}).join('|')`, {}, { funcs: strings });
    expect(String(owned).split("|")).toEqual([DELETION_COST, STATE, SAFE_TO_EVICT, DO_NOT_DISRUPT]);
  });

  it("lets the worker write its busy, idle and draining marks on its own pod, with other annotations present", () => {
    const idle = pod("a", { "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z" });
    const busy = pod("a", { "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z", [DELETION_COST]: "1", [STATE]: "busy", [SAFE_TO_EVICT]: "false", [DO_NOT_DISRUPT]: "true" });
    const draining = pod("a", { "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z", [DELETION_COST]: "1", [STATE]: "draining" });
    expect(admit(byWorker(idle, busy))).toBe("allowed");
    expect(admit(byWorker(busy, draining))).toBe("allowed");
    expect(admit(byWorker(pod("a"), pod("a", { [STATE]: "idle" })))).toBe("allowed");
    expect(admit(byWorker(busy, pod("a", { "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z" })))).toBe("allowed");
  });

  it("refuses the worker's writes to another pod, and from a token bound to no pod", () => {
    expect(admit(byWorker(pod("b"), pod("b", { [STATE]: "busy" })))).toBe("the quiesce worker may change only its own pod");
    expect(admit(byWorker(pod("a"), pod("a", { [STATE]: "busy" }), {}))).toBe("the quiesce worker may change only its own pod");
  });

  it("refuses changes to its own pod beyond the annotations: labels, spec, owner references, finalizers", () => {
    const relabelled = pod("a");
    relabelled.metadata.labels = { "app.kubernetes.io/name": "other" };
    const image = pod("a");
    image.spec.containers[0].image = "evil:latest";
    const orphan = pod("a");
    delete orphan.metadata.ownerReferences;
    const finalized = pod("a");
    finalized.metadata.finalizers = ["example.com/hold"];
    for (const changed of [relabelled, image, orphan, finalized]) {
      expect(admit(byWorker(pod("a"), changed))).toBe("the quiesce worker may change only its pod's annotations");
    }
  });

  it("refuses adding, changing or removing an annotation it does not own", () => {
    const owned = "the quiesce worker may change only these annotations: " + [DELETION_COST, STATE, SAFE_TO_EVICT, DO_NOT_DISRUPT].join(", ");
    expect(admit(byWorker(pod("a"), pod("a", { "example.com/x": "1" })))).toBe(owned);
    expect(admit(byWorker(pod("a", { "example.com/x": "1" }), pod("a", { "example.com/x": "2" })))).toBe(owned);
    expect(admit(byWorker(pod("a", { "example.com/x": "1" }), pod("a")))).toBe(owned);
  });

  it("does not apply to other users, other namespaces or other operations", () => {
    const other = { ...byWorker(pod("b"), pod("b", { "example.com/x": "1" })), username: "system:serviceaccount:kube-system:replicaset-controller" };
    expect(admit(other)).toBe("not matched");
    expect(admit({ ...byWorker(pod("b"), pod("b", { "example.com/x": "1" })), namespace: "default" })).toBe("not matched");
    expect(admit({ ...byWorker(pod("b"), pod("b")), operation: "DELETE" })).toBe("not matched");
  });

  it("binds the policy by name, denying", () => {
    expect(binding!.spec.policyName).toBe(policy!.metadata.name);
    expect(binding!.spec.validationActions).toEqual(["Deny"]);
    expect(policy!.spec.failurePolicy).toBe("Fail");
  });
});
