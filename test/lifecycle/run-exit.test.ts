// @servers none
// What runs after `await worker.run()`: nothing by default (the process exits with the drain's
// code), the next line with `exit: false` or an exit function, in a real process.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { spawnWorker } from "../harness/worker-process.js";
import { parseEvents } from "./events.js";

const fixture = fileURLToPath(new URL("../fixtures/run-then.mjs", import.meta.url));
const env = (mode: string) => ({ FIXTURE_EXIT: mode, QUIESCE_LOG_LEVEL: "warn", POD_NAME: undefined, POD_NAMESPACE: undefined, KUBERNETES_SERVICE_HOST: undefined });

describe.concurrent("await worker.run()", () => {
  it("by default exits the process with the drain's code: the code after it never runs", async () => {
    const exit = await spawnWorker(fixture, { env: env("default") }).waitForExit(20_000);
    expect(exit.code, exit.stderr).toBe(0);
    expect(parseEvents(exit.stdout).map((e) => e.event)).toEqual([]);
  });

  it("with exit: false resolves with the report and the next line runs", async () => {
    const exit = await spawnWorker(fixture, { env: env("false") }).waitForExit(20_000);
    expect(exit.code, exit.stderr).toBe(0);
    expect(parseEvents(exit.stdout)).toEqual([{ event: "after-run", exitCode: 0, reason: "empty" }]);
  });

  it("with an exit function calls it with the code, then resolves", async () => {
    const exit = await spawnWorker(fixture, { env: env("function") }).waitForExit(20_000);
    expect(exit.code, exit.stderr).toBe(0);
    expect(parseEvents(exit.stdout)).toEqual([{ event: "exit-called", code: 0 }, { event: "after-run", exitCode: 0, reason: "empty" }]);
  });
});
