/**
 * A CPU hog beside a bench: `BENCH_HOG=N` (or `--hog[=N]` on the command line) starts N child
 * processes that spin in a busy loop until the bench exits, so the bench competes for the CPU as
 * it would next to a busy neighbour. Where every extra microsecond of a layer costs wall time.
 */
import { spawn } from "node:child_process";

const SPIN = "for(;;){}";

/** How many hogs were asked for: `--hog` alone is 1, `--hog=N` or BENCH_HOG=N is N. */
export function hogsRequested(argv = process.argv, env = process.env) {
  const flag = argv.find((arg) => arg === "--hog" || arg.startsWith("--hog="));
  if (flag) return flag === "--hog" ? 1 : Math.max(0, Number(flag.slice("--hog=".length)) || 0);
  return Math.max(0, Number(env.BENCH_HOG ?? 0) || 0);
}

/** Starts the hogs; the returned stop() ends them (they are also killed when this process exits). */
export function startHogs(count) {
  const children = [];
  for (let i = 0; i < count; i++) {
    children.push(spawn(process.execPath, ["-e", SPIN], { stdio: "ignore" }));
  }
  const stop = () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.once("exit", stop);
  return { count, stop };
}
