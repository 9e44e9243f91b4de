import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import { parse } from "yaml";

/**
 * The CRDs' OpenAPI schemas as the API server enforces them, from the CRD files of the
 * releases under test/fixtures/crds (copied unchanged from each project's release tag; see the
 * README there). Two differences from the API server, both deliberate:
 * - unknown fields are refused (`kubectl apply --validate=strict`), where the server would drop
 *   them silently: every object with declared properties and no
 *   `x-kubernetes-preserve-unknown-fields` gets `additionalProperties: false`;
 * - `format`s (int32, date-time…) and CEL rules (`x-kubernetes-validations`) are not checked.
 * `metadata` is `{ type: object }` in every CRD (the server checks it apart) and stays open here.
 */

type Schema = Record<string, unknown>;
const root = fileURLToPath(new URL("../fixtures/crds/", import.meta.url));

/** The release folders under test/fixtures/crds, e.g. "keda-2.14.0". */
export const releases = (): string[] => readdirSync(root).filter((d) => !d.endsWith(".md")).sort();

function strict(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strict);
  if (schema === null || typeof schema !== "object") return schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === "properties" ? Object.fromEntries(Object.entries(v as Schema).map(([p, s]) => [p, strict(s)])) : strict(v);
  if (out.properties !== undefined && out.additionalProperties === undefined && out["x-kubernetes-preserve-unknown-fields"] !== true) out.additionalProperties = false;
  return out;
}

interface Crd {
  readonly spec: { group: string; names: { kind: string }; versions: Array<{ name: string; schema: { openAPIV3Schema: Schema } }> };
}

const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
const validators = new Map<string, ValidateFunction>();
const loaded = new Set<string>();

/** Every `apiVersion/kind` a release's CRDs define, with its strict validator. */
function load(release: string): void {
  if (loaded.has(release)) return;
  loaded.add(release);
  for (const file of readdirSync(`${root}${release}`).filter((f) => f.endsWith(".yaml"))) {
    const crd = parse(readFileSync(`${root}${release}/${file}`, "utf8")) as Crd;
    for (const version of crd.spec.versions) {
      const key = `${release}:${crd.spec.group}/${version.name}/${crd.spec.names.kind}`;
      validators.set(key, ajv.compile(strict(version.schema.openAPIV3Schema) as Schema));
    }
  }
}

/** True when `release` has a CRD for this object's apiVersion and kind. */
export function defines(release: string, obj: Readonly<Record<string, unknown>>): boolean {
  load(release);
  return validators.has(`${release}:${String(obj.apiVersion)}/${String(obj.kind)}`);
}

/** What the release's schema refuses in `obj` ("/spec/foo: must NOT have additional properties (bar)"); [] when valid. */
export function schemaErrors(release: string, obj: Readonly<Record<string, unknown>>): string[] {
  load(release);
  const validate = validators.get(`${release}:${String(obj.apiVersion)}/${String(obj.kind)}`);
  if (validate === undefined) throw new Error(`${release} defines no ${String(obj.apiVersion)} ${String(obj.kind)}`);
  if (validate(obj)) return [];
  return (validate.errors ?? []).map((e) => {
    const extra = (e.params as { additionalProperty?: string; missingProperty?: string }).additionalProperty ?? "";
    return `${e.instancePath || "/"}: ${e.message ?? e.keyword}${extra ? ` (${extra})` : ""}`;
  });
}
