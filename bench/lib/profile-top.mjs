#!/usr/bin/env node
/**
 * The top self-time frames of a V8 `.cpuprofile` (from `node --cpu-prof`), as a markdown table:
 * function, file:line (shortened to the package), self ms and share of the sampled time.
 *
 *   node bench/lib/profile-top.mjs /tmp/prof/CPU.*.cpuprofile [count] [filter]
 *
 * `filter` keeps only frames whose file contains it (`sdk/dist`, `adapters/dist`); a second table
 * sums self time by package (the SDK, the adapters, bullmq, ioredis, prom-client, Node, V8).
 */
import { readFileSync } from "node:fs";

const [file, countArg, filter] = process.argv.slice(2);
if (!file) {
  process.stderr.write("usage: node bench/lib/profile-top.mjs FILE.cpuprofile [count]\n");
  process.exit(2);
}
const count = Number(countArg ?? 25);
const profile = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const hits = new Map();
const deltas = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  hits.set(id, (hits.get(id) ?? 0) + (deltas[i] ?? 0));
}
const frames = new Map();
const packages = new Map();
let total = 0;
for (const [id, us] of hits) {
  const { callFrame } = byId.get(id);
  const url = callFrame.url.replace(/^file:\/\//, "").replace(/.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, "").replace(/.*\/packages\//, "");
  const pkg = packageOf(callFrame.url, callFrame.functionName);
  packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  total += us;
  if (filter && !callFrame.url.includes(filter)) continue;
  const key = `${callFrame.functionName || "(anonymous)"}\t${url ? `${url}:${callFrame.lineNumber + 1}` : ""}`;
  frames.set(key, (frames.get(key) ?? 0) + us);
}

function packageOf(url, name) {
  if (!url) return name.startsWith("(") ? name : "(native)";
  if (url.startsWith("node:")) return "node: built-ins";
  const dep = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return dep[1];
  const own = /\/packages\/([^/]+)\//.exec(url);
  return own ? `@quiesce/${own[1]}` : url;
}
const rows = [...frames].sort((a, b) => b[1] - a[1]).slice(0, count);
const lines = ["| self ms | share | function | where |", "|---:|---:|---|---|"];
for (const [key, us] of rows) {
  const [name, where] = key.split("\t");
  lines.push(`| ${(us / 1000).toFixed(1)} | ${((100 * us) / total).toFixed(1)} % | \`${name}\` | ${where} |`);
}
lines.push("", `${(total / 1000).toFixed(0)} ms sampled in all.`, "", "| self ms | share | package |", "|---:|---:|---|");
for (const [pkg, us] of [...packages].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
  lines.push(`| ${(us / 1000).toFixed(1)} | ${((100 * us) / total).toFixed(1)} % | ${pkg} |`);
}
process.stdout.write(`${lines.join("\n")}\n`);
