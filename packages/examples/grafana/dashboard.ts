/**
 * The Grafana dashboard for quiesce workers, typed against Grafana's published dashboard schema
 * (@grafana/schema): `dashboard.json` beside this file is what `write-dashboard.ts` makes of it,
 * ready to import (Dashboards → New → Import). Expressions use only the metrics a worker exports;
 * the `pod` and `namespace` labels are what a Kubernetes scrape config (pod role) adds.
 */
import type { Dashboard, Panel } from "@grafana/schema";

const DS = { type: "prometheus", uid: "${datasource}" } as const;
const SEL = 'namespace=~"$namespace"';

let nextId = 1;
function panel(title: string, type: string, grid: [x: number, y: number, w: number, h: number], exprs: Array<[expr: string, legend: string]>, extra: Partial<Panel> = {}): Panel {
  const [x, y, w, h] = grid;
  return {
    id: nextId++,
    title,
    type,
    datasource: DS,
    gridPos: { x, y, w, h },
    targets: exprs.map(([expr, legendFormat], i) => ({ refId: String.fromCharCode(65 + i), datasource: DS, expr, legendFormat })),
    ...extra,
  };
}

export const dashboard = {
  title: "quiesce workers",
  uid: "quiesce-workers",
  description: "State, jobs, drains, leases and pod writes of quiesce workers.",
  tags: ["quiesce", "queue", "kubernetes"],
  schemaVersion: 39,
  version: 1,
  editable: true,
  time: { from: "now-6h", to: "now" },
  refresh: "30s",
  templating: {
    list: [
      { name: "datasource", type: "datasource", query: "prometheus", label: "Prometheus" },
      {
        name: "namespace",
        type: "query",
        label: "Namespace",
        datasource: DS,
        query: "label_values(quiesce_worker_state, namespace)",
        includeAll: true,
        multi: true,
        allValue: ".*",
        refresh: 2,
      },
      {
        name: "grace_seconds",
        type: "textbox",
        label: "terminationGracePeriodSeconds (as configured)",
        query: "30",
        description: "The grace period of the Deployment, to compare with what the workers recommend.",
      },
    ],
  },
  panels: [
    panel("State per pod", "state-timeline", [0, 0, 24, 8], [[`max by (pod, state) (quiesce_worker_state{${SEL}}) == 1`, "{{pod}} {{state}}"]], {
      description: "idle, busy or draining: what the ReplicaSet should see in pod-deletion-cost.",
    }),
    panel("Jobs in flight", "timeseries", [0, 8, 12, 8], [[`sum by (pod) (quiesce_jobs_in_flight{${SEL}})`, "{{pod}}"]]),
    panel("Job rate by outcome", "timeseries", [12, 8, 12, 8], [[`sum by (outcome) (rate(quiesce_jobs_total{${SEL}}[$__rate_interval]))`, "{{outcome}}"]], {
      description: "released = handed back by a drain, a deadline or a lost lease (not a failure).",
    }),
    panel("Job duration p50 / p99", "timeseries", [0, 16, 12, 8], [
      [`histogram_quantile(0.5, sum by (le) (rate(quiesce_job_duration_seconds_bucket{${SEL}, outcome="completed"}[$__rate_interval])))`, "p50"],
      [`histogram_quantile(0.99, sum by (le) (rate(quiesce_job_duration_seconds_bucket{${SEL}, outcome="completed"}[$__rate_interval])))`, "p99"],
    ]),
    panel("Recommended grace vs configured", "timeseries", [12, 16, 12, 8], [
      [`max(quiesce_recommended_grace_seconds{${SEL}})`, "recommended (p99 job + safety margin)"],
      ["vector($grace_seconds)", "configured"],
    ], { description: "Above the configured line, long jobs are released at the deadline instead of finishing." }),
    panel("Drain durations", "timeseries", [0, 24, 8, 8], [[`max by (pod) (quiesce_drain_duration_seconds{${SEL}})`, "{{pod}}"]]),
    panel("Lease losses", "timeseries", [8, 24, 8, 8], [
      [`sum by (pod) (increase(quiesce_lease_lost_total{${SEL}}[$__rate_interval]))`, "{{pod}}"],
      [`sum(rate(quiesce_lease_extensions_total{${SEL}}[$__rate_interval]))`, "renewals/s (all pods)"],
    ]),
    panel("Pod annotation writes", "timeseries", [16, 24, 8, 8], [
      [`sum by (outcome) (rate(quiesce_pod_writes_total{${SEL}}[$__rate_interval]))`, "{{outcome}}/s"],
      [`3600 * sum(rate(quiesce_pod_writes_total{${SEL}}[1h])) / count(quiesce_jobs_in_flight{${SEL}})`, "per pod-hour"],
    ], { description: "Every pod write fans out to every pod watcher; expect a few per pod-hour under steady load." }),
    panel("Queue depth", "timeseries", [0, 32, 24, 8], [[`max by (queue, kind) (quiesce_queue_depth{${SEL}})`, "{{queue}} {{kind}}"]]),
    panel("Checkpoints and resumes", "timeseries", [0, 40, 24, 8], [
      [`sum(rate(quiesce_checkpoints_total{${SEL}}[$__rate_interval]))`, "checkpoints/s"],
      [`sum(increase(quiesce_resumed_jobs_total{${SEL}}[$__rate_interval]))`, "jobs resumed"],
      [`sum(increase(quiesce_resume_saved_seconds_total{${SEL}}[$__rate_interval]))`, "seconds of work not redone"],
    ], { description: "Long jobs that checkpoint: an interrupted one resumes from its last checkpoint instead of from zero." }),
    panel("Database pool connections", "timeseries", [0, 48, 12, 8], [
      [`sum by (pool, state) (quiesce_pool_connections{${SEL}})`, "{{pool}} {{state}}"],
    ], { description: "Open connections (idle, busy) and callers waiting for one, over the fleet: an idle fleet should hold none." }),
    panel("Database pool wait p99", "timeseries", [12, 48, 12, 8], [
      [`histogram_quantile(0.99, sum by (pool, le) (rate(quiesce_pool_wait_seconds_bucket{${SEL}}[$__rate_interval])))`, "{{pool}}"],
    ], { description: "Time a job waited for a connection: a pool smaller than the concurrency (or a fleet budget too tight) shows here." }),
  ],
} satisfies Dashboard;
