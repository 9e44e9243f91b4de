/**
 * `pnpm demo`: a scale-down, plain workers against quiesce workers, side by side. One process, the
 * in-memory queue, real createWorker instances, a simulated ReplicaSet that deletes pods the way
 * Kubernetes ranks them, on virtual time (about 30 s of real time at the default speed).
 * `--redis URL`: the same story with a Node process per pod over BullMQ, real signals, real time.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseDemoArgs, UsageError, type DemoArgs } from "./args.js";
import { PodLogs } from "./processes/pod-logs.js";
import { RedisUnreachableError, runProcessWorlds } from "./processes/run.js";
import { runWorlds } from "./sim/run.js";
import type { WorldResult, WorldSnapshot } from "./sim/world.js";
import { summarize, table } from "./summary.js";
import { timelineSvg } from "./svg.js";

async function main(args: DemoArgs): Promise<void> {
  const { scenario } = args;
  const live = !args.json && process.stdout.isTTY;
  const say = (line: string): void => void (args.json ? process.stderr : process.stdout).write(`${line}\n`);
  say(
    `quiesce demo: ${scenario.replicas} pods, the scaler goes ${[scenario.replicas, ...scenario.schedule].join("→")}, ` +
      `grace ${scenario.graceSeconds} s, seed ${scenario.seed}` +
      (args.redis !== null ? `, a Node process per pod over BullMQ at ${args.redis}` : Number.isFinite(args.speed) ? `, ${args.speed}× real time` : ""),
  );
  const started = performance.now();
  const tick = (worlds: readonly { readonly startedAt: number; snapshot(): WorldSnapshot }[]): void => {
    const [p, q] = worlds.map((w) => w.snapshot());
    const t = Math.round((Date.now() - (worlds[0]?.startedAt ?? Date.now())) / 1000);
    const show = (name: string, s: NonNullable<typeof p>): string =>
      `${name} ${s.replicas} pods ${s.busy} busy ${s.draining} draining, ${s.queued} queued, ${s.interrupted} interrupted`;
    const line = `t=${String(t).padStart(3)}s | ${show("plain", p!)} | ${show("quiesce", q!)}`;
    // One line, rewritten in place: never wider than the terminal, or it would wrap and pile up.
    if (live) process.stdout.write(`\r\x1b[2K${line.slice(0, Math.max(20, (process.stdout.columns || 120) - 1))}`);
    else if (!args.json) say(line);
  };
  const kinds = ["plain", "quiesce"] as const;
  const logs = new PodLogs();
  const [plain, quiesce] = await run(args, kinds, tick, (kind, pod, line) => {
    const shown = logs.add(kind, pod, line);
    if (shown !== undefined) say(shown);
  });
  if (live) process.stdout.write("\r\x1b[2K");
  const result = { plain: summarize(plain!), quiesce: summarize(quiesce!) };
  let svgPath: string | null = null;
  if (args.svg !== null) {
    svgPath = resolve(args.svg);
    writeFileSync(svgPath, timelineSvg([
      { title: "plain workers (receive, run, ack; SIGTERM ends the process)", result: plain! },
      { title: "quiesce workers (drain on SIGTERM, pod-deletion-cost on the pod)", result: quiesce! },
    ], { clock: args.redis === null ? "simulated" : "real" }));
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ seed: scenario.seed, ...result })}\n`);
  } else {
    say("");
    say(table(result.plain, result.quiesce));
    say("");
    const span = Math.round((plain!.endedAt - plain!.startedAt) / 1000);
    const took = ((performance.now() - started) / 1000).toFixed(1);
    say(args.redis === null ? `${span} s of simulated time in ${took} s.` : `${took} s of real time: ${plain!.pods.length + quiesce!.pods.length} worker processes, real SIGTERM and SIGKILL.`);
  }
  for (const line of logs.summary()) say(line);
  if (svgPath !== null) say(`Timeline of every pod: ${svgPath}`);
}

function run(
  args: DemoArgs,
  kinds: readonly ("plain" | "quiesce")[],
  tick: (worlds: readonly { readonly startedAt: number; snapshot(): WorldSnapshot }[]) => void,
  onStderr: (kind: string, pod: string, line: string) => void,
): Promise<WorldResult[]> {
  const worlds = kinds.map((kind) => ({ scenario: args.scenario, kind, informerLagMs: args.lagMs }));
  if (args.redis === null) return runWorlds(worlds, { speed: args.speed, tick });
  const redisUrl = args.redis;
  return runProcessWorlds(
    worlds.map((w) => ({ ...w, redisUrl, onStderr: (pod: string, line: string) => onStderr(w.kind, pod, line) })),
    { tick },
  );
}

try {
  // `pnpm demo -- --seed 2` may hand the separator on.
  const argv = process.argv.slice(2);
  await main(parseDemoArgs(argv[0] === "--" ? argv.slice(1) : argv));
} catch (thrown) {
  if (thrown instanceof RedisUnreachableError) {
    process.stderr.write(`${thrown.message}\n`);
    process.exitCode = 1;
  } else {
    if (!(thrown instanceof UsageError)) throw thrown;
    process.stderr.write(`${thrown.message}\n`);
    process.exitCode = thrown.message.startsWith("pnpm demo") ? 0 : 2;
  }
}
