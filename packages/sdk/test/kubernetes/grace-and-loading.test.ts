import { describe, expect, it } from "vitest";
import { MissingDependencyError } from "../../src/errors.js";
import { GraceAdvisor, graceTooShort, recommendedGraceSeconds } from "../../src/kubernetes/grace-period.js";
import { loadClientNode } from "../../src/kubernetes/load-client.js";
import { snapshot, toEpochMs } from "../../src/kubernetes/pod-api.js";
import { recordingLogger } from "./helpers.js";

describe("grace period advice", () => {
  it("recommends p99 + margin, rounded up to whole seconds", () => {
    expect(recommendedGraceSeconds(45_200, 3000)).toBe(49);
    expect(recommendedGraceSeconds(1, 1000)).toBe(2);
  });

  it("cannot tell until both the spec and a p99 are known", () => {
    expect(graceTooShort(undefined, 1000, 1000)).toBeUndefined();
    expect(graceTooShort(30_000, undefined, 1000)).toBeUndefined();
    expect(graceTooShort(30_000, 28_000, 3000)).toBe(true);
    expect(graceTooShort(30_000, 20_000, 3000)).toBe(false);
  });

  it("warns once, naming the recommended value and the metric", () => {
    const log = recordingLogger();
    const recent: { p99?: number } = {};
    const advisor = new GraceAdvisor(log, () => recent.p99, 3000);
    advisor.check(30_000);
    expect(log.lines).toHaveLength(0);
    recent.p99 = 45_000;
    advisor.check(30_000);
    advisor.check(30_000);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatchObject({ level: "warn", fields: { recommendedGraceSeconds: 48 } });
    expect(log.lines[0]?.message).toContain("quiesce_recommended_grace_seconds");
  });
});

describe("loadClientNode", () => {
  it("a missing package says how to install it", async () => {
    const missing = Object.assign(new Error("Cannot find package '@kubernetes/client-node' imported from /app/x.js"), { code: "ERR_MODULE_NOT_FOUND" });
    const error = await loadClientNode(() => Promise.reject(missing)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect((error as Error).message).toContain("install @kubernetes/client-node");
    expect((error as Error).cause).toBe(missing);
  });

  it("an installed but broken package (2.x on Node 20) names the fix", async () => {
    const broken = new TypeError("webidl.util.markAsUncloneable is not a function");
    const error = (await loadClientNode(() => Promise.reject(broken)).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect(error.message).toContain("@kubernetes/client-node@1");
  });

  it("loads the real one (1.4.x in this workspace) with every name the integration uses", async () => {
    const mod = await loadClientNode();
    expect(typeof mod.KubeConfig).toBe("function");
    expect(typeof mod.CoreV1Api).toBe("function");
    expect(typeof mod.setHeaderMiddleware).toBe("function");
    expect(mod.PatchStrategy.MergePatch).toBe("application/merge-patch+json");
  }, 30_000); // importing client-node takes seconds on a loaded machine
});

describe("pod snapshot", () => {
  it("parses deletionTimestamp as RFC 3339 (string or client-node's Date)", () => {
    expect(toEpochMs("2026-03-01T10:00:05Z")).toBe(Date.UTC(2026, 2, 1, 10, 0, 5));
    expect(toEpochMs("2026-03-01T12:00:05+02:00")).toBe(Date.UTC(2026, 2, 1, 10, 0, 5));
    expect(toEpochMs("2026-03-01T10:00:05.250Z")).toBe(Date.UTC(2026, 2, 1, 10, 0, 5, 250));
    expect(toEpochMs(new Date(1234))).toBe(1234);
    expect(toEpochMs("not a date")).toBeUndefined();
    expect(toEpochMs(undefined)).toBeUndefined();
  });

  it("takes the grace period and annotations, tolerating absent fields", () => {
    expect(snapshot({})).toEqual({ annotations: {}, terminationGracePeriodSeconds: undefined, deletionTimestamp: undefined, resourceVersion: undefined });
    expect(snapshot({ metadata: { annotations: { a: "b" }, resourceVersion: "7" }, spec: { terminationGracePeriodSeconds: 0 } })).toMatchObject({
      annotations: { a: "b" },
      terminationGracePeriodSeconds: 0,
      resourceVersion: "7",
    });
  });
});
