import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A small fake of the two API-server routes the pod integration uses, strict where the real one
 * is: GET and PATCH /api/v1/namespaces/{ns}/pods/{name}, each patch kind by its content type
 * (anything else is 415), merge-patch null removes, resourceVersion bumps on every write, errors
 * come as real `Status` bodies. Faults (an error code, Retry-After, a delay, a hang, a reset) are
 * injected per test; every request is recorded for assertions.
 */

export interface FakePodSpec {
  readonly namespace: string;
  readonly name: string;
  readonly annotations?: Record<string, string>;
  readonly terminationGracePeriodSeconds?: number;
  /** RFC 3339 string, or epoch ms (written the way the API server does: whole seconds, UTC). */
  readonly deletionTimestamp?: string | number;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
  /** Parsed JSON when it parses, else the raw text ("" without a body). */
  readonly body: unknown;
  /** Epoch ms the request arrived. */
  readonly at: number;
  /** What was answered; undefined for hung or reset requests. */
  status: number | undefined;
}

export type Fault =
  | { readonly status: number; readonly retryAfter?: string; readonly message?: string }
  | { readonly delayMs: number }
  | { readonly hang: true }
  | { readonly reset: true };

interface InstalledFault {
  readonly fault: Fault;
  readonly methods: readonly string[] | undefined;
  remaining: number;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const reasons: Record<number, string> = {
  400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict", 415: "UnsupportedMediaType",
  422: "Invalid", 429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout",
};

const podPath = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/?]+)$/;

export class KubeApiFake {
  readonly requests: RecordedRequest[] = [];
  readonly #server: Server;
  readonly #pods = new Map<string, Obj>();
  readonly #faults: InstalledFault[] = [];
  readonly #dir = mkdtempSync(join(tmpdir(), "quiesce-k8s-fake-"));
  readonly #token: string;
  #resourceVersion = 1000;
  #port = 0;

  private constructor(token: string) {
    this.#token = token;
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  /** Listen on 127.0.0.1 on a free port. `token`: the bearer token every request must carry (401 otherwise). */
  static async start(options: { token?: string } = {}): Promise<KubeApiFake> {
    const fake = new KubeApiFake(options.token ?? "fake-token");
    await new Promise<void>((resolve) => fake.#server.listen(0, "127.0.0.1", resolve));
    fake.#port = (fake.#server.address() as AddressInfo).port;
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  addPod(spec: FakePodSpec): void {
    const pod: Obj = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: spec.name, namespace: spec.namespace, uid: `uid-${spec.name}`, resourceVersion: String(++this.#resourceVersion), creationTimestamp: rfc3339(Date.now()) },
      spec: { terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds ?? 30, containers: [{ name: "worker", image: "worker:dev" }] },
      status: { phase: "Running" },
    };
    this.#pods.set(`${spec.namespace}/${spec.name}`, pod);
    if (spec.annotations) (pod.metadata as Obj).annotations = { ...spec.annotations };
    if (spec.deletionTimestamp !== undefined) this.setDeletionTimestamp(spec.namespace, spec.name, spec.deletionTimestamp);
  }

  /** The pod as the server holds it now (a copy). */
  pod(namespace: string, name: string): { metadata: { annotations?: Record<string, string>; resourceVersion: string; deletionTimestamp?: string }; spec: { terminationGracePeriodSeconds?: number } } {
    const pod = this.#pods.get(`${namespace}/${name}`);
    if (!pod) throw new Error(`fake: no pod ${namespace}/${name}`);
    return structuredClone(pod) as never;
  }

  annotations(namespace: string, name: string): Record<string, string> {
    return this.pod(namespace, name).metadata.annotations ?? {};
  }

  /** As a DELETE does: deletionTimestamp = when SIGKILL may land, truncated to whole seconds. */
  setDeletionTimestamp(namespace: string, name: string, at: string | number): void {
    const meta = this.#mustPod(namespace, name).metadata as Obj;
    meta.deletionTimestamp = typeof at === "number" ? rfc3339(at) : at;
    meta.resourceVersion = String(++this.#resourceVersion);
  }

  setGracePeriod(namespace: string, name: string, seconds: number | undefined): void {
    const spec = this.#mustPod(namespace, name).spec as Obj;
    if (seconds === undefined) delete spec.terminationGracePeriodSeconds;
    else spec.terminationGracePeriodSeconds = seconds;
  }

  /** Apply `fault` to the next `times` requests (all, by default) of the given methods (any, by default). Returns a remover. */
  fault(fault: Fault, options: { times?: number; methods?: readonly string[] } = {}): () => void {
    const installed: InstalledFault = { fault, methods: options.methods, remaining: options.times ?? Infinity };
    this.#faults.push(installed);
    return () => {
      const at = this.#faults.indexOf(installed);
      if (at >= 0) this.#faults.splice(at, 1);
    };
  }

  clearFaults(): void {
    this.#faults.length = 0;
  }

  patches(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === "PATCH");
  }

  /** A kubeconfig pointing here (plain HTTP needs insecure-skip-tls-verify in client-node). JSON is YAML. */
  writeKubeconfig(options: { token?: string; namespace?: string } = {}): string {
    const file = join(this.#dir, `kubeconfig-${Math.random().toString(36).slice(2)}.yaml`);
    const config = {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "fake", cluster: { server: this.url, "insecure-skip-tls-verify": true } }],
      users: [{ name: "fake", user: { token: options.token ?? this.#token } }],
      contexts: [{ name: "fake", context: { cluster: "fake", user: "fake", namespace: options.namespace ?? "default" } }],
      "current-context": "fake",
    };
    writeFileSync(file, JSON.stringify(config, null, 2));
    return file;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req);
    const contentType = req.headers["content-type"];
    const record: RecordedRequest = {
      method: req.method ?? "",
      path: req.url ?? "",
      contentType,
      authorization: req.headers.authorization,
      body: parseJson(text) ?? text,
      at: Date.now(),
      status: undefined,
    };
    this.requests.push(record);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      record.status = status;
      res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
    };

    const installed = this.#faults.find((f) => f.remaining > 0 && (!f.methods || f.methods.includes(record.method)));
    if (installed) {
      installed.remaining--;
      const { fault } = installed;
      if ("hang" in fault) return; // closeAllConnections() ends it
      if ("reset" in fault) return void req.socket.destroy();
      if ("delayMs" in fault) await new Promise((r) => setTimeout(r, fault.delayMs));
      else return answer(fault.status, status(fault.status, fault.message ?? "injected"), fault.retryAfter === undefined ? {} : { "retry-after": fault.retryAfter });
    }

    if (req.headers.authorization !== `Bearer ${this.#token}`) return answer(401, status(401, "Unauthorized"));
    const match = podPath.exec((req.url ?? "").split("?")[0] ?? "");
    const pod = match ? this.#pods.get(`${decodeURIComponent(match[1] ?? "")}/${decodeURIComponent(match[2] ?? "")}`) : undefined;
    if (!match || !pod) return answer(404, status(404, `pods "${match?.[2] ?? "?"}" not found`));
    if (record.method === "GET") return answer(200, pod);
    if (record.method !== "PATCH") return answer(405, status(405, `method ${record.method} not allowed`));

    const kind = (contentType ?? "").split(";")[0]?.trim();
    const merge = kind === "application/merge-patch+json" || kind === "application/strategic-merge-patch+json";
    if (!merge && kind !== "application/json-patch+json") {
      return answer(415, status(415, `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`));
    }
    const body = parseJson(text);
    if (body === undefined) return answer(400, status(400, "the body of the request was not valid JSON"));
    let next: Json;
    try {
      // Strategic merge differs from RFC 7386 only for lists with patch keys; metadata has none.
      next = merge ? mergePatch(structuredClone(pod), body) : jsonPatch(structuredClone(pod), body);
    } catch (error) {
      return answer(422, status(422, `invalid patch: ${(error as Error).message}`));
    }
    const meta = (next as Obj).metadata as Obj;
    if (JSON.stringify((next as Obj).spec) !== JSON.stringify(pod.spec) || meta.name !== (pod.metadata as Obj).name) {
      return answer(422, status(422, `Pod "${String((pod.metadata as Obj).name)}" is invalid: spec: Forbidden: pod updates may not change fields other than metadata`));
    }
    if (meta.annotations && Object.keys(meta.annotations).length === 0) delete meta.annotations;
    meta.resourceVersion = String(++this.#resourceVersion);
    this.#pods.set(`${String(meta.namespace)}/${String(meta.name)}`, next as Obj);
    return answer(200, next);
  }

  #mustPod(namespace: string, name: string): Obj {
    const pod = this.#pods.get(`${namespace}/${name}`);
    if (!pod) throw new Error(`fake: no pod ${namespace}/${name}`);
    return pod;
  }
}

/** A `Status` body the way the API server writes it. */
function status(code: number, message: string): Obj {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason: reasons[code] ?? "Unknown", code };
}

/** RFC 7386: objects merge key by key, null removes, anything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Obj = typeof target === "object" && target !== null && !Array.isArray(target) ? target : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key] ?? null, value);
  }
  return out;
}

/** RFC 6902 add / remove / replace / test, enough for annotations. */
export function jsonPatch(doc: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new Error("a JSON patch is an array of operations");
  for (const op of ops as Obj[]) {
    const path = String(op.path ?? "").split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    const last = path.pop();
    if (last === undefined) throw new Error(`bad path ${String(op.path)}`);
    let parent: Json = doc;
    for (const key of path) {
      parent = typeof parent === "object" && parent !== null ? (parent as Obj)[key] ?? null : null;
      if (parent === null) throw new Error(`path ${String(op.path)} does not exist`);
    }
    const container = parent as Obj;
    if (op.op === "add" || op.op === "replace") {
      if (op.op === "replace" && !(last in container)) throw new Error(`replace of missing ${String(op.path)}`);
      container[last] = op.value ?? null;
    } else if (op.op === "remove") {
      if (!(last in container)) throw new Error(`remove of missing ${String(op.path)}`);
      delete container[last];
    } else if (op.op === "test") {
      if (JSON.stringify(container[last]) !== JSON.stringify(op.value)) throw new Error(`test failed at ${String(op.path)}`);
    } else {
      throw new Error(`unsupported op ${String(op.op)}`);
    }
  }
  return doc;
}

/** The API server's form: UTC, whole seconds, truncated. */
function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

function parseJson(text: string): Json | undefined {
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
