#!/usr/bin/env node
/**
 * `quiesce`: the worker's admin CLI, for an `exec` preStop hook (`quiesce drain`) and humans
 * (`quiesce status`). It talks to the worker's own HTTP server on loopback; it never imports the
 * runtime, so it starts fast inside a container that is being stopped.
 */
import { type CliArgs, parseCliArgs, usage, UsageError } from "./args.js";
import { requestJson } from "./request.js";

interface ReportLike {
  reason?: unknown;
  exitCode?: unknown;
  path?: unknown;
  completed?: unknown;
  failed?: unknown;
  released?: unknown;
  interrupted?: unknown;
  durationMs?: unknown;
  error?: unknown;
}

async function drain(args: CliArgs): Promise<number> {
  const url = new URL(`http://${hostPart(args.host)}:${args.port}/drain`);
  const res = await requestJson("POST", url, { timeoutMs: args.timeoutMs, token: args.token });
  if (res.status !== 200 || typeof res.body !== "object" || res.body === null) {
    const why = (res.body as { error?: unknown } | undefined)?.error;
    console.error(`quiesce: /drain answered ${res.status}${typeof why === "string" ? `: ${why}` : ""}`);
    return 1;
  }
  const report = res.body as ReportLike;
  const code = report.exitCode === 0 || report.exitCode === 143 || report.exitCode === 1 ? report.exitCode : 1;
  // Work handed back means the pod did not finish what it took; say so in the exit code too.
  const exit = code === 0 && typeof report.interrupted === "number" && report.interrupted > 0 ? 143 : code;
  const seconds = typeof report.durationMs === "number" ? (report.durationMs / 1000).toFixed(1) : "?";
  console.log(
    `quiesce: drained (${String(report.path ?? "?")}, reason ${String(report.reason ?? "?")}, exit ${exit}): ` +
      `${num(report.completed)} completed, ${num(report.failed)} failed, ${num(report.released)} released, ` +
      `${num(report.interrupted)} interrupted in ${seconds} s` +
      (typeof report.error === "string" ? `; error: ${report.error}` : ""),
  );
  return exit;
}

async function status(args: CliArgs): Promise<number> {
  const url = new URL(`http://${hostPart(args.host)}:${args.port}/status`);
  const res = await requestJson("GET", url, { timeoutMs: args.timeoutMs, token: undefined });
  if (res.status !== 200 || res.body === undefined) {
    console.error(`quiesce: /status answered ${res.status}`);
    return 1;
  }
  console.log(JSON.stringify(res.body, null, 2));
  return 0;
}

function hostPart(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

function num(value: unknown): string {
  return typeof value === "number" ? String(value) : "?";
}

async function main(argv: readonly string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(argv, process.env);
  } catch (thrown) {
    if (!(thrown instanceof UsageError)) throw thrown;
    console.error(`quiesce: ${thrown.message}\n\n${usage}`);
    return 2;
  }
  if (args.command === "help") {
    console.log(usage);
    return 0;
  }
  try {
    return args.command === "drain" ? await drain(args) : await status(args);
  } catch (thrown) {
    console.error(`quiesce: ${thrown instanceof Error ? thrown.message : String(thrown)}`);
    return 1;
  }
}

// exitCode rather than exit(): stdout is flushed before the process ends, even into a pipe.
process.exitCode = await main(process.argv.slice(2));
