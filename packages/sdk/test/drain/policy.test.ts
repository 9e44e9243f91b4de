import { describe, expect, it } from "vitest";
import { drainDeadline, drainExitCode, type ExitInputs } from "../../src/drain/policy.js";

describe("drainDeadline", () => {
  const base = { graceMs: 30_000, safetyMarginMs: 3000, startedAt: 1_000_000 };

  it("is the grace period from the drain's start, less the safety margin", () => {
    expect(drainDeadline(base)).toBe(1_000_000 + 30_000 - 3000);
  });

  it("moves earlier when the pod's deletion time comes before the grace period ends", () => {
    expect(drainDeadline({ ...base, podDeletionAt: 1_010_000 })).toBe(1_010_000 - 3000);
  });

  it("never moves later for a deletion time after the grace period", () => {
    expect(drainDeadline({ ...base, podDeletionAt: 1_100_000 })).toBe(drainDeadline(base));
    expect(drainDeadline({ ...base, podDeletionAt: undefined })).toBe(drainDeadline(base));
  });

  it("may lie in the past (a deletion already due): the release then happens at once", () => {
    expect(drainDeadline({ ...base, podDeletionAt: 999_000 })).toBeLessThan(base.startedAt);
  });
});

describe("drainExitCode", () => {
  const clean: ExitInputs = { fatal: false, interrupted: 0, signal: true, exitWhenEmpty: false, queueSeenEmpty: false };

  it("is 0 for a clean drain", () => {
    expect(drainExitCode(clean)).toBe(0);
    expect(drainExitCode({ ...clean, signal: false })).toBe(0);
  });

  it("is 1 for a fatal drain, whatever else happened", () => {
    expect(drainExitCode({ ...clean, fatal: true })).toBe(1);
    expect(drainExitCode({ ...clean, fatal: true, interrupted: 3 })).toBe(1);
  });

  it("is 143 when started work was handed back", () => {
    expect(drainExitCode({ ...clean, interrupted: 1 })).toBe(143);
    expect(drainExitCode({ ...clean, interrupted: 1, signal: false })).toBe(143);
  });

  it("is 143 for a job-mode worker stopped by a signal before its queue was seen empty", () => {
    expect(drainExitCode({ ...clean, exitWhenEmpty: true })).toBe(143);
    expect(drainExitCode({ ...clean, exitWhenEmpty: true, queueSeenEmpty: true })).toBe(0);
    expect(drainExitCode({ ...clean, exitWhenEmpty: true, signal: false })).toBe(0);
  });
});
