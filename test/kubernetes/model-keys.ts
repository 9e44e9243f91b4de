import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The published schema validators (kubernetes-models, @kubernetes-models/keda) check types and
 * required fields but accept unknown ones, so a typo such as `terminationGracePeriodSecond` or
 * `podFailurePolicies` validates. This walks a manifest against the models' TypeScript
 * declarations instead and reports every field the model does not declare: the `kubectl apply
 * --validate=strict` check, offline.
 */

interface Prop {
  readonly type: string;
}
interface Shape {
  readonly file: string;
  readonly props: ReadonlyMap<string, Prop>;
  readonly imports: ReadonlyMap<string, string>;
}

const shapes = new Map<string, Shape | null>();

function loadShape(file: string): Shape | null {
  const cached = shapes.get(file);
  if (cached !== undefined) return cached;
  const text = readFileSync(file, "utf8");
  const imports = new Map<string, string>();
  for (const m of text.matchAll(/^import \{ ([^}]+) \} from "([^"]+)";$/gm)) {
    for (const name of m[1]!.split(",")) {
      const local = name.trim().split(/\s+as\s+/).pop()!;
      imports.set(local, m[2]!);
    }
  }
  const body = /^export interface \w+(?: extends [^{]+)? \{\n([\s\S]*?)^\}/m.exec(text)?.[1];
  if (body === undefined) {
    shapes.set(file, null); // a type alias (IntOrString, Quantity…): a leaf
    return null;
  }
  const props = new Map<string, Prop>();
  // One property a line at four spaces; a map type spans lines (`{ [key: string]: … }`) and is a leaf.
  for (const m of body.matchAll(/^ {4}"([^"]+)"\??: (.*?);?$/gm)) props.set(m[1]!, { type: m[2]! });
  const shape = { file, props, imports };
  shapes.set(file, shape);
  return shape;
}

/** The declaration file of the interface `type` refers to, or undefined for a leaf (string, map, union). */
function resolveType(type: string, from: Shape): string | undefined {
  const element = /^Array<(.+)>$/.exec(type)?.[1] ?? /^(\w+)\[\]$/.exec(type)?.[1] ?? type;
  if (!/^I\w+$/.test(element)) return undefined;
  const spec = from.imports.get(element);
  if (spec === undefined) return undefined;
  if (spec.startsWith(".")) return resolve(dirname(from.file), spec.replace(/\.js$/, ".d.ts"));
  return declarationOf(spec, from.file);
}

/**
 * `pkg/sub/path` → that package's `sub/path.d.ts`, found the way Node finds packages (walking up
 * node_modules from `from`, pnpm's real paths included). The packages are ESM-only ("import"
 * exports), so require.resolve cannot be used; their exports map `./x/*` to `./x/*.d.ts` anyway.
 */
function declarationOf(spec: string, from: string): string {
  const parts = spec.split("/");
  const nameLength = spec.startsWith("@") ? 2 : 1;
  const name = parts.slice(0, nameLength).join("/");
  const sub = parts.slice(nameLength).join("/");
  for (let dir = dirname(realpathSync(from)); ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name, `${sub}.d.ts`);
    if (existsSync(candidate)) return realpathSync(candidate);
    if (dirname(dir) === dir) throw new Error(`model-keys: cannot find ${spec} from ${from}`);
  }
}

/** Paths of fields that `model` (e.g. "kubernetes-models/apps/v1/Deployment") does not declare. */
export function unknownFields(model: string, manifest: unknown): string[] {
  const root = declarationOf(model, fileURLToPath(import.meta.url));
  const found: string[] = [];
  walk(manifest, root, "", found);
  return found;
}

function walk(value: unknown, file: string, path: string, found: string[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => walk(item, file, `${path}[${i}]`, found));
    return;
  }
  if (typeof value !== "object" || value === null) return;
  const shape = loadShape(file);
  if (!shape) return;
  for (const [key, child] of Object.entries(value)) {
    const prop = shape.props.get(key);
    if (!prop) {
      found.push(`${path}.${key}`);
      continue;
    }
    const next = resolveType(prop.type, shape);
    if (next) walk(child, next, `${path}.${key}`, found);
  }
}
