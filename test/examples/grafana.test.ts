// @servers none
// The Grafana dashboard: typed against Grafana's dashboard schema (@grafana/schema, checked by
// `pnpm typecheck`), the JSON operators import is that typed object, and every expression parses
// as PromQL (Prometheus's own lezer grammar) and names only metrics a worker exports.
import { readFileSync } from "node:fs";
import { parser } from "@prometheus-io/lezer-promql";
import { describe, expect, it } from "vitest";
import { dashboard } from "../../packages/examples/grafana/dashboard.js";
import { metricDefs } from "../../packages/sdk/src/metrics/names.js";

const json = JSON.parse(readFileSync(new URL("../../packages/examples/grafana/dashboard.json", import.meta.url), "utf8")) as unknown;

/** What a scrape of a worker can show: our names, and the histogram's three series. */
const histograms = new Set<string>([metricDefs.jobDuration.name, metricDefs.poolWait.name]);
const exported = new Set(
  Object.values(metricDefs).flatMap((m) => (histograms.has(m.name) ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name])),
);

/** Grafana's variables, replaced by values of the same syntactic kind before parsing. */
function substitute(expr: string): string {
  return expr.replaceAll("$__rate_interval", "1m").replaceAll("$__range", "1h").replaceAll("$namespace", ".*").replaceAll("$grace_seconds", "30");
}

function parse(expr: string): { errors: string[]; metrics: string[] } {
  const errors: string[] = [];
  const metrics: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: ${JSON.stringify(expr.slice(node.from, node.from + 20))}`);
      if (node.name === "Identifier" && node.node.parent?.name === "VectorSelector") metrics.push(expr.slice(node.from, node.to));
    },
  });
  return { errors, metrics };
}

const targets = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title ?? "", expr: String(t.expr) })));

describe("Grafana dashboard (packages/examples/grafana)", () => {
  it("dashboard.json is the typed dashboard, written out", () => {
    expect(json).toEqual(JSON.parse(JSON.stringify(dashboard)));
  });

  it("has the panels operators look for", () => {
    const titles = dashboard.panels.map((p) => p.title);
    for (const want of ["State per pod", "Jobs in flight", "Job rate by outcome", "Drain durations", "Lease losses", "Recommended grace vs configured", "Pod annotation writes"]) {
      expect(titles).toContain(want);
    }
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
  });

  it("every expression parses and names only exported metrics", () => {
    expect(targets.length).toBeGreaterThanOrEqual(10);
    const used = new Set<string>();
    for (const { panel, expr } of targets) {
      const { errors, metrics } = parse(substitute(expr));
      expect({ panel, expr, errors }).toEqual({ panel, expr, errors: [] });
      for (const m of metrics) {
        expect(exported, `${panel}: ${m}`).toContain(m);
        used.add(m);
      }
    }
    // Every metric of the contract is on the dashboard somewhere (histograms through _bucket).
    for (const m of Object.values(metricDefs)) expect([...used].some((u) => u === m.name || u.startsWith(`${m.name}_`)), m.name).toBe(true);
  });

  it("the parser does catch a broken expression and a foreign metric (the checks can fail)", () => {
    expect(parse("sum(rate(quiesce_jobs_total[1m])").errors).not.toEqual([]);
    expect(exported.has(parse("rate(quiesce_jobs_completed[1m])").metrics[0]!)).toBe(false);
  });
});
