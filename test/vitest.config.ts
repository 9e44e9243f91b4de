import { defineProject } from "vitest/config";

// Tests against real servers (started once per run by global-setup.ts) and real child processes.
// Server starts and process exits are slow next to unit tests, hence the generous timeouts; two
// workers suit the 2-core CI machines (the servers themselves need CPU too).
export default defineProject({
  test: {
    name: "integration",
    include: ["**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    globalSetup: ["./global-setup.ts"],
    pool: "forks",
    // Runs after the unit projects (vitest needs a group of its own for a different maxWorkers).
    sequence: { groupOrder: 1 },
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // On CI one retry for these tests only (the unit projects get none): on two shared cores a
    // process or server can stall past a bound now and then, and one such stall should not fail
    // the run. Each retry is named by flaky-reporter.ts and listed by .ci/run, so none goes unseen.
    retry: Number(process.env.QUIESCE_TEST_RETRY ?? (process.env.CI ? 1 : 0)),
  },
});
