import type { WorldResult } from "./sim/world.js";

const COLOURS = { done: "#4c78a8", released: "#f58518", killed: "#d62728", life: "#c7c7c7", term: "#b07d00", kill: "#d62728", scale: "#7f7f7f" };
const ROW = 13;
const LEFT = 64;
const WIDTH = 1200;

const esc = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const n = (x: number): string => (Math.round(x * 10) / 10).toString();

/**
 * Each pod's timeline for both runs, one panel each, on one time axis: job runs as bars (done,
 * released at a deadline, cut by SIGKILL each in its own colour), SIGTERM and SIGKILL marks, and
 * the scale-downs. Plain SVG 1.1, no script, no external resource.
 */
export function timelineSvg(runs: readonly { readonly title: string; readonly result: WorldResult }[], options: { readonly clock?: "simulated" | "real" } = {}): string {
  const spanMs = Math.max(...runs.map(({ result: r }) => r.endedAt - r.startedAt));
  // Real pods may be created before the story starts (they boot first): the axis starts with it.
  const x = (t: number, r: WorldResult): number => LEFT + ((Math.max(t, r.startedAt) - r.startedAt) / spanMs) * (WIDTH - LEFT - 16);
  const parts: string[] = [];
  let y = 28;
  parts.push(`<text x="${LEFT}" y="18" font-size="14" font-weight="bold">The same scale-down story, plain workers and quiesce workers</text>`);
  for (const { title, result: r } of runs) {
    const top = y + 8;
    const height = r.pods.length * ROW + 24;
    parts.push(`<g class="panel" data-kind="${esc(r.kind)}">`);
    parts.push(`<text x="${LEFT}" y="${top + 4}" font-size="12" font-weight="bold">${esc(title)}</text>`);
    for (const s of r.scaleDowns) {
      const sx = n(x(s.at, r));
      parts.push(`<line class="scale" x1="${sx}" y1="${top + 10}" x2="${sx}" y2="${top + height}" stroke="${COLOURS.scale}" stroke-dasharray="3 3"/>`);
      parts.push(`<text x="${sx}" y="${top + height + 10}" font-size="9" text-anchor="middle" fill="${COLOURS.scale}">${s.from}→${s.to}</text>`);
    }
    r.pods.forEach((pod, i) => {
      const cy = top + 20 + i * ROW;
      const end = pod.marks.exitAt ?? r.endedAt;
      parts.push(`<text x="${LEFT - 6}" y="${cy + 3}" font-size="9" text-anchor="end">${esc(pod.name)}</text>`);
      parts.push(`<line class="life" x1="${n(x(pod.createdAt, r))}" y1="${cy}" x2="${n(x(end, r))}" y2="${cy}" stroke="${COLOURS.life}"/>`);
      for (const run of r.runs) {
        if (run.pod !== pod.name) continue;
        const outcome = run.outcome ?? "done";
        const x0 = x(run.start, r);
        const w = Math.max(1, x(run.end ?? r.endedAt, r) - x0);
        parts.push(`<rect class="run ${outcome}" x="${n(x0)}" y="${cy - 4}" width="${n(w)}" height="8" fill="${COLOURS[outcome]}"><title>job ${run.job.id} (${(run.job.ms / 1000).toFixed(1)} s): ${outcome}</title></rect>`);
      }
      if (pod.marks.termAt !== undefined) {
        const tx = x(pod.marks.termAt, r);
        parts.push(`<path class="sigterm" d="M${n(tx - 4)} ${cy - 7} L${n(tx + 4)} ${cy - 7} L${n(tx)} ${cy - 1} Z" fill="${COLOURS.term}"><title>SIGTERM</title></path>`);
      }
      if (pod.marks.killAt !== undefined) {
        const kx = x(pod.marks.killAt, r);
        parts.push(`<path class="sigkill" d="M${n(kx - 4)} ${cy - 4} L${n(kx + 4)} ${cy + 4} M${n(kx - 4)} ${cy + 4} L${n(kx + 4)} ${cy - 4}" stroke="${COLOURS.kill}" stroke-width="2"><title>SIGKILL</title></path>`);
      }
    });
    parts.push("</g>");
    y = top + height + 24;
  }
  const legend: Array<[string, string]> = [
    [COLOURS.done, "job run to the end"],
    [COLOURS.released, "job handed back at the drain deadline (runs again at once)"],
    [COLOURS.killed, "job cut by SIGKILL or a dying worker (runs again after its lease expires)"],
  ];
  legend.forEach(([colour, label], i) => {
    const lx = LEFT + i * 360;
    parts.push(`<rect x="${lx}" y="${y}" width="14" height="8" fill="${colour}"/><text x="${lx + 20}" y="${y + 8}" font-size="10">${esc(label)}</text>`);
  });
  y += 18;
  parts.push(`<path d="M${LEFT - 4} ${y - 3} L${LEFT + 4} ${y - 3} L${LEFT} ${y + 3} Z" fill="${COLOURS.term}"/><text x="${LEFT + 10}" y="${y + 3}" font-size="10">SIGTERM (the ReplicaSet chose the pod)</text>`);
  parts.push(`<path d="M${LEFT + 296} ${y - 4} L${LEFT + 304} ${y + 4} M${LEFT + 296} ${y + 4} L${LEFT + 304} ${y - 4}" stroke="${COLOURS.kill}" stroke-width="2"/><text x="${LEFT + 312}" y="${y + 3}" font-size="10">SIGKILL at the end of the grace period</text>`);
  parts.push(`<text x="${LEFT + 600}" y="${y + 3}" font-size="10">time axis: ${Math.round(spanMs / 1000)} s of ${options.clock ?? "simulated"} time</text>`);
  const height = y + 16;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...parts,
    `</svg>`,
    "",
  ].join("\n");
}
