import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { PodWrite } from "../sim/pod-store.js";

type Annotations = Readonly<Record<string, string>>;

interface StoredPod {
  readonly name: string;
  readonly createdAt: number;
  readonly graceSeconds: number;
  /** Every version of the annotations with the time it was stored, oldest first. */
  readonly versions: Array<{ readonly at: number; readonly annotations: Annotations }>;
  readonly writes: PodWrite[];
  resourceVersion: number;
  deletionTimestamp: number | undefined;
}

const podPath = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/?]+)$/;
const MERGE_TYPES = ["application/merge-patch+json", "application/strategic-merge-patch+json"];
const REASONS: Readonly<Record<number, string>> = { 400: "BadRequest", 401: "Unauthorized", 404: "NotFound", 405: "MethodNotAllowed", 415: "UnsupportedMediaType", 422: "Invalid" };

/**
 * The two API-server routes a worker uses on its own pod, over real HTTP for the worker processes
 * (their @kubernetes/client-node talks to it through a kubeconfig): GET and PATCH
 * /api/v1/namespaces/{ns}/pods/{name}, a patch by its content type (merge or strategic merge, which
 * are the same on annotations; anything else is 415), `null` removing a key, errors as `Status`
 * bodies. The ReplicaSet reads the same pods in process, through {@link seen}, with an informer's lag.
 */
export class KubeApi {
  readonly namespace: string;
  readonly token = randomBytes(12).toString("hex");
  readonly #pods = new Map<string, StoredPod>();
  readonly #server: Server;
  #resourceVersion = 1000;

  private constructor(namespace: string) {
    this.namespace = namespace;
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  static async start(namespace: string): Promise<KubeApi> {
    const api = new KubeApi(namespace);
    await new Promise<void>((resolve, reject) => {
      api.#server.once("error", reject);
      api.#server.listen(0, "127.0.0.1", resolve);
    });
    return api;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** A kubeconfig for this server (JSON is YAML); client-node accepts plain HTTP only with insecure-skip-tls-verify. */
  kubeconfig(): string {
    return JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "demo", cluster: { server: this.url, "insecure-skip-tls-verify": true } }],
      users: [{ name: "demo", user: { token: this.token } }],
      contexts: [{ name: "demo", context: { cluster: "demo", user: "demo", namespace: this.namespace } }],
      "current-context": "demo",
    });
  }

  create(name: string, graceSeconds: number): void {
    this.#pods.set(name, { name, createdAt: Date.now(), graceSeconds, versions: [{ at: Date.now(), annotations: {} }], writes: [], resourceVersion: ++this.#resourceVersion, deletionTimestamp: undefined });
  }

  /**
   * What a DELETE does first: the pod gets its deletion deadline. The real API server writes it in
   * whole seconds, truncated; with the show's grace of a few seconds that would cost a worker up to
   * a third of it, so this one keeps the milliseconds (never later than the kill either way).
   */
  markDeleted(name: string): number {
    const pod = this.#get(name);
    pod.deletionTimestamp ??= Date.now() + pod.graceSeconds * 1000;
    pod.resourceVersion = ++this.#resourceVersion;
    return pod.deletionTimestamp;
  }

  /** The annotations as a watcher `lagMs` behind the API server sees them now. */
  seen(name: string, lagMs: number): Annotations {
    const versions = this.#pods.get(name)?.versions;
    if (!versions) return {};
    const cutoff = Date.now() - lagMs;
    for (let i = versions.length - 1; i > 0; i--) if (versions[i]!.at <= cutoff) return versions[i]!.annotations;
    return versions[0]!.annotations;
  }

  writes(name: string): readonly PodWrite[] {
    return this.#pods.get(name)?.writes ?? [];
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const answer = (code: number, payload: unknown): void => void res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(payload));
    const fail = (code: number, message: string): void => answer(code, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason: REASONS[code] ?? "Unknown", code });
    if (req.headers.authorization !== `Bearer ${this.token}`) return fail(401, "Unauthorized");
    const match = podPath.exec((req.url ?? "").split("?")[0] ?? "");
    const pod = match && decodeURIComponent(match[1]!) === this.namespace ? this.#pods.get(decodeURIComponent(match[2]!)) : undefined;
    if (!pod) return fail(404, `pods "${match?.[2] ?? "?"}" not found`);
    if (req.method === "GET") return answer(200, this.#object(pod));
    if (req.method !== "PATCH") return fail(405, `the server does not allow this method on the requested resource`);
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim();
    if (!MERGE_TYPES.includes(type)) {
      return fail(415, `the body of the request was in an unknown format - accepted media types include: ${MERGE_TYPES.join(", ")}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return fail(400, "the body of the request was not valid JSON");
    }
    let patch: Record<string, string | null>;
    try {
      patch = annotationPatch(parsed);
    } catch (error) {
      return fail(422, `Pod "${pod.name}" is invalid: ${(error as Error).message}`);
    }
    const next: Record<string, string> = { ...pod.versions.at(-1)!.annotations };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete next[key];
      else next[key] = value;
    }
    pod.versions.push({ at: Date.now(), annotations: next });
    pod.writes.push({ at: Date.now(), patch });
    pod.resourceVersion = ++this.#resourceVersion;
    return answer(200, this.#object(pod));
  }

  #object(pod: StoredPod): unknown {
    const annotations = pod.versions.at(-1)!.annotations;
    return {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: pod.name,
        namespace: this.namespace,
        uid: `uid-${pod.name}`,
        resourceVersion: String(pod.resourceVersion),
        creationTimestamp: new Date(Math.floor(pod.createdAt / 1000) * 1000).toISOString().replace(".000Z", "Z"),
        ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
        ...(pod.deletionTimestamp === undefined ? {} : { deletionTimestamp: new Date(pod.deletionTimestamp).toISOString(), deletionGracePeriodSeconds: pod.graceSeconds }),
      },
      spec: { terminationGracePeriodSeconds: pod.graceSeconds, containers: [{ name: "worker", image: "worker:demo" }] },
      status: { phase: "Running" },
    };
  }

  #get(name: string): StoredPod {
    const pod = this.#pods.get(name);
    if (!pod) throw new Error(`no pod ${name}`);
    return pod;
  }
}

/**
 * The part of a merge patch a worker may send here: metadata.annotations with string or null
 * values. Anything touching other fields is refused, as the real server refuses spec changes.
 */
function annotationPatch(body: unknown): Record<string, string | null> {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(body) || Object.keys(body).some((k) => k !== "metadata") || !isObject(body.metadata)) {
    throw new Error("this API server takes patches of metadata.annotations only");
  }
  const { annotations } = body.metadata;
  if (Object.keys(body.metadata).some((k) => k !== "annotations") || !isObject(annotations)) throw new Error("this API server takes patches of metadata.annotations only");
  for (const [key, value] of Object.entries(annotations)) {
    if (value !== null && typeof value !== "string") throw new Error(`metadata.annotations.${key}: a string or null, got ${typeof value}`);
  }
  return annotations as Record<string, string | null>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
