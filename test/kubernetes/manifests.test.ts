// @servers none
// Every manifest in packages/examples/kubernetes validated against the published schemas
// (kubernetes-models, @kubernetes-models/keda), checked for fields the models do not declare
// (the schema validators accept unknown fields; see model-keys.ts), validated against the CRDs of
// the oldest and newest KEDA supported and of the prometheus-operator, unknown fields refused
// (crd-schema.ts), and checked for what makes the set work together and drain safely.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { defines, releases, schemaErrors } from "./crd-schema.js";
import { unknownFields } from "./model-keys.js";

const dir = fileURLToPath(new URL("../../packages/examples/kubernetes/", import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed YAML
interface Doc {
  readonly file: string;
  readonly obj: Obj;
}

const docs: Doc[] = files.flatMap((file) => {
  const parsed = parseAllDocuments(readFileSync(`${dir}${file}`, "utf8"));
  return parsed.map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
    return { file, obj: d.toJS() as Obj };
  });
});

const of = (kind: string) => docs.filter((d) => d.obj.kind === kind).map((d) => d.obj);
const named = (kind: string, name: string) => of(kind).find((o) => o.metadata?.name === name);

/** The model module of a kind: core and built-in groups from kubernetes-models, KEDA from @kubernetes-models/keda. */
function modelOf(apiVersion: string, kind: string): string | undefined {
  if (apiVersion.endsWith("keda.sh/v1alpha1")) return `@kubernetes-models/keda/${apiVersion}/${kind}`;
  if (apiVersion === "k8s.practo.dev/v1") return undefined; // no published model: checked by hand below
  if (apiVersion === "monitoring.coreos.com/v1") return undefined; // checked against its CRD below
  return `kubernetes-models/${apiVersion}/${kind}`;
}

describe("manifests", () => {
  it("are found and parse", () => {
    expect(files).toEqual(expect.arrayContaining(["deployment.yaml", "rbac.yaml", "scaledjob.yaml", "hpa.yaml", "workerpodautoscaler.yaml", "job-spawn-on-enqueue.yaml"]));
    expect(docs.length).toBeGreaterThanOrEqual(15);
  });

  it.each(docs.filter((d) => modelOf(d.obj.apiVersion, d.obj.kind) !== undefined).map((d) => [`${d.file}: ${d.obj.kind}/${d.obj.metadata?.name}`, d] as const))(
    "%s validates against the published schema, with no undeclared field",
    async (_label, { obj }) => {
      const model = modelOf(obj.apiVersion, obj.kind)!;
      const mod = (await import(model)) as Record<string, new (data: Obj) => { validate(): void }>;
      const Model = mod[obj.kind];
      expect(Model, `${model} exports ${obj.kind}`).toBeTypeOf("function");
      expect(() => new Model!(obj).validate()).not.toThrow();
      expect(unknownFields(model, obj)).toEqual([]);
    },
  );

  const kedaReleases = releases().filter((r) => r.startsWith("keda-"));
  const crdObjects = docs.filter((d) => d.obj.apiVersion.endsWith("keda.sh/v1alpha1") || d.obj.apiVersion === "monitoring.coreos.com/v1");
  const crdCases = crdObjects.flatMap((d) => releases().filter((r) => defines(r, d.obj)).map((r) => [`${d.file}: ${d.obj.kind}/${d.obj.metadata?.name} on ${r}`, r, d] as const));

  it("the CRD fixtures cover the oldest and newest KEDA, and every KEDA object and PodMonitor has a CRD to meet", () => {
    expect(kedaReleases).toEqual(["keda-2.14.0", "keda-2.20.2"]);
    for (const { obj, file } of crdObjects) {
      const by = releases().filter((r) => defines(r, obj));
      if (obj.apiVersion === "keda.sh/v1alpha1") expect(by, `${file} ${obj.kind}`).toEqual(kedaReleases);
      else expect(by, `${file} ${obj.kind}`).toHaveLength(1);
    }
    expect(of("PodMonitor")).toHaveLength(1);
  });

  it.each(crdCases)("%s: accepted by the CRD's schema, unknown fields refused", (_label, release, { obj }) => {
    expect(schemaErrors(release, obj)).toEqual([]);
  });

  it("the CRD check can fail: a ScaledJob without onPodConditions status is refused by KEDA 2.14, not by 2.20; a typo is refused by both", () => {
    const job = structuredClone(named("ScaledJob", "quiesce-one-message")!);
    delete job.spec.jobTargetRef.podFailurePolicy.rules[0].onPodConditions[0].status;
    expect(schemaErrors("keda-2.14.0", job)).toEqual(["/spec/jobTargetRef/podFailurePolicy/rules/0/onPodConditions/0: must have required property 'status'"]);
    expect(schemaErrors("keda-2.20.2", job)).toEqual([]);
    job.spec.pollingIntervall = 10;
    expect(schemaErrors("keda-2.20.2", job)).toEqual(["/spec: must NOT have additional properties (pollingIntervall)"]);
  });

  it("WorkerPodAutoScaler: no published model, so the CRD's (k8s.practo.dev/v1) required fields and types are checked by hand", () => {
    const wpas = of("WorkerPodAutoScaler");
    expect(wpas).toHaveLength(1);
    for (const wpa of wpas) {
      expect(wpa.apiVersion).toBe("k8s.practo.dev/v1");
      expect(typeof wpa.metadata?.name).toBe("string");
      const spec = wpa.spec as Obj;
      const int32 = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 2 ** 31 - 1;
      // openAPIV3Schema: required minReplicas, maxReplicas, queueURI, targetMessagesPerWorker; oneOf deploymentName | replicaSetName.
      expect(int32(spec.minReplicas)).toBe(true);
      expect(int32(spec.maxReplicas)).toBe(true);
      expect(spec.maxReplicas).toBeGreaterThanOrEqual(spec.minReplicas);
      expect(int32(spec.targetMessagesPerWorker)).toBe(true);
      expect(spec.queueURI).toMatch(/^https:\/\/sqs\.[a-z0-9-]+\.amazonaws\.com\/\d{12}\/[\w-]+$/);
      expect(["deploymentName" in spec, "replicaSetName" in spec].filter(Boolean)).toHaveLength(1);
      if ("maxDisruption" in spec) expect(spec.maxDisruption).toMatch(/^\d+%?$/);
      if ("secondsToProcessOneJob" in spec) expect(typeof spec.secondsToProcessOneJob).toBe("number");
      const declared = ["deploymentName", "replicaSetName", "maxDisruption", "maxReplicas", "minReplicas", "queueURI", "targetMessagesPerWorker", "secondsToProcessOneJob"];
      expect(Object.keys(spec).filter((k) => !declared.includes(k))).toEqual([]);
      expect(named("Deployment", spec.deploymentName)).toBeDefined();
    }
  });
});

/** Every pod template in the set: Deployments, Jobs, and the Jobs of ScaledJobs. */
const podTemplates = (): Array<{ owner: string; spec: Obj }> => [
  ...of("Deployment").map((d) => ({ owner: `Deployment/${d.metadata.name}`, spec: d.spec.template.spec })),
  ...of("Job").map((j) => ({ owner: `Job/${j.metadata.name}`, spec: j.spec.template.spec })),
  ...of("ScaledJob").map((s) => ({ owner: `ScaledJob/${s.metadata.name}`, spec: s.spec.jobTargetRef.template.spec })),
];
const workers = () => podTemplates().filter((t) => t.spec.serviceAccountName === "quiesce-worker");
const envOf = (container: Obj) => Object.fromEntries((container.env as Obj[]).map((e) => [e.name, e.value ?? e.valueFrom]));

describe("the set works together", () => {
  it("everything lives in the namespace rbac.yaml creates; RBAC grants get and patch on pods, bound to the workers' ServiceAccount", () => {
    const ns = named("Namespace", "quiesce-demo");
    expect(ns).toBeDefined();
    const clusterScoped = ["Namespace", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"];
    for (const { obj, file } of docs) if (!clusterScoped.includes(obj.kind)) expect(obj.metadata.namespace, `${file} ${obj.kind}`).toBe("quiesce-demo");
    const role = named("Role", "quiesce-pod-reporter")!;
    expect(role.rules).toEqual([{ apiGroups: [""], resources: ["pods"], verbs: ["get", "patch"] }]);
    const binding = named("RoleBinding", "quiesce-pod-reporter")!;
    expect(binding.roleRef).toMatchObject({ kind: "Role", name: "quiesce-pod-reporter" });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "quiesce-worker", namespace: "quiesce-demo" }]);
    expect(named("ServiceAccount", "quiesce-worker")).toBeDefined();
  });

  it("every worker pod: Downward API POD_NAME/POD_NAMESPACE, node as PID 1 (exec form), a grace period sized by hand", () => {
    expect(workers().map((w) => w.owner).sort()).toEqual([
      "Deployment/quiesce-sqs-worker",
      "Deployment/quiesce-worker",
      "Job/quiesce-emails-runner",
      "ScaledJob/quiesce-drain-until-empty",
      "ScaledJob/quiesce-one-message",
    ]);
    for (const { owner, spec } of workers()) {
      const [container] = spec.containers as Obj[];
      expect(envOf(container!).POD_NAME, owner).toEqual({ fieldRef: { fieldPath: "metadata.name" } });
      expect(envOf(container!).POD_NAMESPACE, owner).toEqual({ fieldRef: { fieldPath: "metadata.namespace" } });
      expect(container!.command, owner).toEqual(["node", "worker.js"]);
      expect(spec.terminationGracePeriodSeconds, owner).toBeGreaterThanOrEqual(30);
    }
  });

  it("the Deployment: /livez and /readyz on the metrics port 9464, a preStop drain, a headless metrics Service that keeps not-ready pods", () => {
    const deployment = named("Deployment", "quiesce-worker")!;
    const [c] = deployment.spec.template.spec.containers as Obj[];
    expect(c!.ports).toEqual([{ name: "metrics", containerPort: 9464 }]);
    expect(envOf(c!).QUIESCE_HTTP_PORT).toBe("9464");
    expect(c!.livenessProbe.httpGet).toEqual({ path: "/livez", port: "metrics" });
    expect(c!.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "metrics" });
    expect(c!.lifecycle.preStop.exec.command.slice(-2)).toEqual(["/app/node_modules/@quiesce/sdk/dist/cli/main.js", "drain"]);
    // QUIESCE_GRACE_SECONDS is the fallback for the same value.
    expect(Number(envOf(c!).QUIESCE_GRACE_SECONDS)).toBe(deployment.spec.template.spec.terminationGracePeriodSeconds);
    const service = named("Service", "quiesce-worker-metrics")!;
    expect(service.spec).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true, selector: deployment.spec.selector.matchLabels });
    expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
  });

  it("a KEDA ScaledObject per backend, each with an in-flight-aware prometheus trigger and a slow scale-down", () => {
    const objects = of("ScaledObject");
    const nativeTriggers = objects.map((o) => (o.spec.triggers as Obj[]).map((t) => t.type).filter((t) => t !== "prometheus")).flat();
    expect([...new Set(nativeTriggers)].sort()).toEqual(["aws-sqs-queue", "rabbitmq", "redis"]);
    for (const o of objects) {
      expect(named("Deployment", o.spec.scaleTargetRef.name)).toBeDefined();
      const prometheus = (o.spec.triggers as Obj[]).find((t) => t.type === "prometheus");
      // In flight is per pod (sum); every pod reports the same depth (max); no series while pods
      // run is an error, never a 0 (the last line answers 0 only at zero replicas).
      // (queue: each example worker's own, "emails" or the RabbitMQ example's "images"; a Deployment
      // sharing the namespace with another one's queue name filters by its pods.)
      expect(prometheus?.metadata.query).toMatch(/sum\(quiesce_jobs_in_flight\{namespace="quiesce-demo", (pod=~"[\w.*-]+", )?queue="[\w.-]+"\}\)/);
      expect(prometheus?.metadata.query).toContain("max(quiesce_queue_depth{");
      expect(prometheus?.metadata.query).not.toMatch(/sum\(quiesce_queue_depth|avg\(quiesce_queue_depth/);
      expect(prometheus?.metadata.query).toMatch(
        new RegExp(`\\bor \\(sum\\(kube_deployment_status_replicas\\{namespace="quiesce-demo", deployment="${o.spec.scaleTargetRef.name as string}"\\}\\) == 0\\)$`),
      );
      expect(prometheus?.metadata.ignoreNullValues).toBe("false");
      expect(o.spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds).toBeGreaterThanOrEqual(60);
      for (const t of o.spec.triggers as Obj[]) {
        if (t.authenticationRef) expect(named("TriggerAuthentication", t.authenticationRef.name), t.authenticationRef.name).toBeDefined();
      }
    }
    for (const auth of of("TriggerAuthentication")) {
      for (const ref of (auth.spec.secretTargetRef ?? []) as Obj[]) expect(named("Secret", ref.name)?.stringData?.[ref.key]).toBeTypeOf("string");
    }
  });

  it("the RabbitMQ ScaledObject: the amqp trigger on the example worker's queue, authenticated by an amqp:// Secret, and the same queue in the prometheus query", () => {
    const [o] = docs.filter((d) => d.file === "scaledobject-rabbitmq.yaml" && d.obj.kind === "ScaledObject").map((d) => d.obj);
    const triggers = o!.spec.triggers as Obj[];
    const rabbitmq = triggers.find((t) => t.type === "rabbitmq")!;
    // Over amqp, QueueLength is the ready count only: the in-flight-aware trigger beside it keeps running jobs' pods.
    expect(rabbitmq.metadata).toMatchObject({ protocol: "amqp", mode: "QueueLength", queueName: "images" });
    expect(Number(rabbitmq.metadata.value)).toBeGreaterThan(0);
    const auth = named("TriggerAuthentication", rabbitmq.authenticationRef.name)!;
    const ref = (auth.spec.secretTargetRef as Obj[]).find((r) => r.parameter === "host")!;
    expect(named("Secret", ref.name)!.stringData[ref.key]).toMatch(/^amqps?:\/\//);
    const prometheus = triggers.find((t) => t.type === "prometheus")!;
    expect(prometheus.metadata.query).toContain(`queue="${rabbitmq.metadata.queueName}"`);
    // One pod per QUIESCE_CONCURRENCY jobs: the Deployment's.
    const [c] = named("Deployment", o!.spec.scaleTargetRef.name)!.spec.template.spec.containers as Obj[];
    expect(prometheus.metadata.threshold).toBe(envOf(c!).QUIESCE_CONCURRENCY);
  });

  it("ScaledJobs in one-message and drain-until-empty modes: gradual rollout, disruptions ignored by the failure policy", () => {
    const jobs = of("ScaledJob");
    const modes = jobs.map((j) => envOf(j.spec.jobTargetRef.template.spec.containers[0]));
    expect(modes.some((e) => e.QUIESCE_MAX_JOBS === "1")).toBe(true);
    expect(modes.some((e) => e.QUIESCE_EXIT_WHEN_EMPTY === "true")).toBe(true);
    for (const j of [...jobs.map((s) => s.spec.jobTargetRef), ...of("Job").map((s) => s.spec)]) {
      expect(j.podFailurePolicy.rules).toContainEqual({ action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] });
      // podFailurePolicy is only allowed with restartPolicy Never.
      expect(j.template.spec.restartPolicy).toBe("Never");
    }
    // The KEDA schema does not enumerate these; KEDA rejects anything else.
    for (const s of jobs) {
      expect(s.spec.rollout.strategy).toBe("gradual");
      expect(["default", "custom", "accurate", "eager"]).toContain(s.spec.scalingStrategy.strategy);
    }
  });

  it("the HPA (autoscaling/v2) targets the Deployment on quiesce metrics with a scale-down behaviour", () => {
    const [hpa] = of("HorizontalPodAutoscaler");
    expect(hpa!.apiVersion).toBe("autoscaling/v2");
    expect(named("Deployment", hpa!.spec.scaleTargetRef.name)).toBeDefined();
    expect((hpa!.spec.metrics as Obj[]).map((m) => (m.pods ?? m.external).metric.name)).toEqual(["quiesce_jobs_in_flight", "quiesce_queue_depth"]);
    // The external depth metric comes through prometheus-adapter: its rule must take the max.
    expect(readFileSync(`${dir}hpa.yaml`, "utf8")).toContain("metricsQuery: 'max(<<.Series>>{<<.LabelMatchers>>}) by (queue, kind)'");
    expect(hpa!.spec.behavior.scaleDown).toMatchObject({ stabilizationWindowSeconds: 300, policies: [{ type: "Pods", value: 1, periodSeconds: 60 }] });
  });

  it("the SQS worker: its Deployment, scaled by the aws-sqs-queue ScaledObject or the WPA, all on one queue, one message per slot", () => {
    const deployment = named("Deployment", "quiesce-sqs-worker")!;
    const [c] = deployment.spec.template.spec.containers as Obj[];
    const env = envOf(c!);
    const queueUrl = env.QUEUE_URL as string;
    const region = /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com\/\d{12}\/([\w-]+)$/.exec(queueUrl);
    expect(region, "QUEUE_URL is an SQS queue URL").not.toBeNull();
    expect(env.AWS_REGION).toBe(region![1]);
    expect(c!.livenessProbe.httpGet).toEqual({ path: "/livez", port: "metrics" });
    expect(c!.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "metrics" });
    expect(Number(env.QUIESCE_GRACE_SECONDS)).toBe(deployment.spec.template.spec.terminationGracePeriodSeconds);
    // The visibility is the lease the worker renews at half: whole seconds, under SQS's 12 h cap.
    expect(Number(env.SQS_VISIBILITY_SECONDS)).toBeGreaterThanOrEqual(2);
    expect(Number(env.SQS_VISIBILITY_SECONDS)).toBeLessThanOrEqual(43_200);

    const scaled = named("ScaledObject", "quiesce-sqs-worker")!;
    expect(scaled.spec.scaleTargetRef.name).toBe("quiesce-sqs-worker");
    const sqs = (scaled.spec.triggers as Obj[]).find((t) => t.type === "aws-sqs-queue")!;
    expect(sqs.metadata).toMatchObject({ queueURL: queueUrl, awsRegion: region![1], queueLength: env.QUIESCE_CONCURRENCY, scaleOnInFlight: "true" });
    // Its Prometheus trigger counts this Deployment's pods only, and the queue by its name.
    const query = (scaled.spec.triggers as Obj[]).find((t) => t.type === "prometheus")!.metadata.query as string;
    expect(query.match(/pod=~"quiesce-sqs-worker-\.\*"/g)).toHaveLength(2);
    expect(query).toContain(`queue="${region![2]}"`);
    const metrics = named("Service", "quiesce-sqs-worker-metrics")!;
    expect(metrics.spec).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true, selector: deployment.spec.selector.matchLabels });

    const [wpa] = of("WorkerPodAutoScaler");
    expect(wpa!.spec).toMatchObject({ deploymentName: "quiesce-sqs-worker", queueURI: queueUrl, targetMessagesPerWorker: Number(env.QUIESCE_CONCURRENCY) });
  });

  it("the spawn-on-enqueue Job drains until empty and frees its name after it ends", () => {
    const [job] = of("Job");
    expect(envOf(job!.spec.template.spec.containers[0]).QUIESCE_EXIT_WHEN_EMPTY).toBe("true");
    expect(job!.spec.ttlSecondsAfterFinished).toBeGreaterThan(0);
  });
});
