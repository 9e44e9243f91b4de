import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The published packages, by folder under packages/. */
export const PACKAGES = ["sdk", "adapters"] as const;
export type PackageDir = (typeof PACKAGES)[number];

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

export interface Packed {
  readonly dir: string;
  /** Tarball path by package folder. */
  readonly tarballs: Readonly<Record<PackageDir, string>>;
  remove(): void;
}

/**
 * `pnpm pack` of each package (from the built dist/), as a release would publish it: pnpm, not
 * npm, because only pnpm's pack and publish rewrite `workspace:^` to the version range.
 */
export function packAll(): Packed {
  const dir = mkdtempSync(join(tmpdir(), "quiesce-pack-"));
  const tarballs = {} as Record<PackageDir, string>;
  for (const pkg of PACKAGES) {
    const before = new Set(readdirSync(dir));
    execFileSync("pnpm", ["pack", "--pack-destination", dir], { cwd: join(repoRoot, "packages", pkg), stdio: "pipe" });
    const made = readdirSync(dir).filter((f) => !before.has(f) && f.endsWith(".tgz"));
    if (made.length !== 1) throw new Error(`pnpm pack in packages/${pkg} made ${made.join(", ") || "nothing"}`);
    tarballs[pkg] = join(dir, made[0]!);
  }
  return { dir, tarballs, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Unpacks a tarball into a new folder under the pack dir; returns its `package/` root. */
export function unpack(packed: Packed, pkg: PackageDir): string {
  const into = join(packed.dir, `unpacked-${pkg}`);
  mkdirSync(into, { recursive: true });
  execFileSync("tar", ["xzf", packed.tarballs[pkg], "-C", into]);
  return join(into, "package");
}
