import { defineConfig } from "vitest/config";

// Unit tests live next to each package; tests against real servers and processes live in test/.
export default defineConfig({
  test: {
    projects: [
      { test: { name: "sdk", root: "packages/sdk", include: ["test/**/*.test.ts"] } },
      { test: { name: "adapters", root: "packages/adapters", include: ["test/**/*.test.ts"] } },
      "test/vitest.config.ts",
    ],
    reporters: process.env.CI
      ? ["default", ["json", { outputFile: ".vitest-report.json" }], "./test/flaky-reporter.ts"]
      : ["default", "./test/flaky-reporter.ts"],
  },
});
