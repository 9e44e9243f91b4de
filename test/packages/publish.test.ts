// @servers none
// What `pnpm publish` would upload, checked the way a registry user meets it: publint and
// @arethetypeswrong/cli on the packed tarballs, then the tarballs' contents (no build state,
// source maps that resolve inside the package, README and LICENSE, workspace ranges rewritten,
// every export present).
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PACKAGES, packAll, repoRoot, unpack, type Packed, type PackageDir } from "./pack.js";

const run = promisify(execFile);
const bin = (name: string) => join(repoRoot, "node_modules", ".bin", name);

let packed: Packed;
const roots = {} as Record<PackageDir, string>;
beforeAll(() => {
  packed = packAll();
  for (const pkg of PACKAGES) roots[pkg] = unpack(packed, pkg);
});
afterAll(() => packed?.remove());

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => statSync(join(dir, f)).isFile());
}

/** Every "./x" target in an exports map (conditions flattened). */
function exportTargets(exports: unknown): string[] {
  if (typeof exports === "string") return [exports];
  if (exports === null || typeof exports !== "object") return [];
  return Object.values(exports).flatMap(exportTargets);
}

describe.each(PACKAGES)("the packed @quiesce/%s", (pkg) => {
  it("passes publint --strict", async () => {
    const { stdout } = await run(bin("publint"), ["run", packed.tarballs[pkg], "--strict"]);
    expect(stdout).toContain("All good!");
  });

  it("passes @arethetypeswrong/cli (esm-only: the packages are ESM, require() is not supported)", async () => {
    // Exits non-zero on a problem the profile does not ignore (execFile then rejects); the JSON
    // lists the ignored ones too (node10, node16 from CommonJS).
    const { stdout } = await run(bin("attw"), [packed.tarballs[pkg], "--profile", "esm-only", "--format", "json"]);
    const report = JSON.parse(stdout) as { analysis: { problems: Array<{ kind: string; resolutionKind?: string }> } };
    const ignored = ["node10", "node16-cjs"];
    expect(report.analysis.problems.filter((p) => !ignored.includes(p.resolutionKind ?? ""))).toEqual([]);
  });

  it("holds no build state, and README, LICENSE (Apache-2.0, the repository's text) and package.json", () => {
    const files = filesUnder(roots[pkg]);
    expect(files.filter((f) => f.endsWith(".tsbuildinfo"))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(["README.md", "LICENSE", "package.json"]));
    expect(readFileSync(join(roots[pkg], "LICENSE"), "utf8")).toBe(readFileSync(join(repoRoot, "LICENSE"), "utf8"));
    expect(readFileSync(join(roots[pkg], "LICENSE"), "utf8")).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(files.filter((f) => f.includes("test/") || f.endsWith(".test.ts"))).toEqual([]);
  });

  it("has a source for every source map entry, inside the package", () => {
    const root = roots[pkg];
    const maps = filesUnder(root).filter((f) => f.endsWith(".map"));
    expect(maps.length).toBeGreaterThan(10);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources, sourceRoot = "" } = JSON.parse(readFileSync(join(root, map), "utf8")) as { sources: string[]; sourceRoot?: string };
      for (const source of sources) {
        const path = resolve(root, dirname(map), sourceRoot, source);
        if (relative(root, path).startsWith("..") || !existsSync(path)) missing.push(`${map} → ${source}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("names only files it holds in exports and bin, and no workspace: range", () => {
    const manifest = JSON.parse(readFileSync(join(roots[pkg], "package.json"), "utf8")) as Record<string, unknown>;
    const targets = [...exportTargets(manifest.exports), ...exportTargets(manifest.bin ?? {})];
    expect(targets.length).toBeGreaterThan(1);
    expect(targets.filter((t) => !existsSync(join(roots[pkg], t)))).toEqual([]);
    const ranges = ["dependencies", "peerDependencies", "optionalDependencies"].flatMap((k) => Object.values((manifest[k] ?? {}) as Record<string, string>));
    expect(ranges.filter((r) => r.startsWith("workspace:"))).toEqual([]);
  });
});

it("@quiesce/adapters depends on the @quiesce/sdk version being released (workspace:^ → ^version)", () => {
  const sdk = JSON.parse(readFileSync(join(roots.sdk, "package.json"), "utf8")) as { version: string };
  const adapters = JSON.parse(readFileSync(join(roots.adapters, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  expect(adapters.dependencies["@quiesce/sdk"]).toBe(`^${sdk.version}`);
});
