/**
 * A private RabbitMQ node for a bench, through the test harness (test/harness/rabbitmq.ts): a node
 * on loopback, stopped by the caller. The harness is TypeScript run by vitest; it is compiled to
 * bench/results/harness/ with the workspace's tsc so the benches stay plain scripts.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Starts the node; resolves with the harness's handle (`url`, `stop()`, ...). */
export async function startRabbitmq() {
  const out = `${root}bench/results/harness`;
  execFileSync(`${root}node_modules/.bin/tsc`, ["--outDir", out, "--rootDir", `${root}test/harness`, "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--skipLibCheck", "--types", "node", `${root}test/harness/rabbitmq.ts`], { stdio: "inherit" });
  const { startRabbitmq: start } = await import(`${out}/rabbitmq.js`);
  return start();
}
