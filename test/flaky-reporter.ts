import { appendFileSync } from "node:fs";
import { relative } from "node:path";
import type { Reporter, TestCase } from "vitest/node";

/**
 * A test against real servers and processes that failed once and passed on its retry (CI only,
 * see vitest.config.ts) is counted as passed, so it would pass unseen: name it on stderr and in
 * the file .ci/run prints before its summary, so a flake is read and fixed instead of forgotten.
 */
export default class FlakyReporter implements Reporter {
  readonly #file: string;

  /** Vitest passes the reporter's options; the file is relative to the working directory (the repository root). */
  constructor(options: { file?: string } = {}) {
    this.#file = options.file ?? ".vitest-flaky.txt";
  }

  onTestCaseResult(testCase: TestCase): void {
    const diagnostic = testCase.diagnostic();
    if (!diagnostic?.flaky) return;
    const errors = testCase.result().errors ?? [];
    const first = errors[0]?.message?.split("\n", 1)[0] ?? "";
    const line = `flaky (passed on retry ${diagnostic.retryCount}): ${relative(process.cwd(), testCase.module.moduleId)} > ${testCase.fullName}${first ? ` (first failure: ${first})` : ""}\n`;
    process.stderr.write(line);
    appendFileSync(this.#file, line);
  }
}
