import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/resolve.js";
import type { WorkerOptions } from "../../src/config/options.js";
import { ConfigError } from "../../src/errors.js";

const handler = (): void => undefined;
const resolve = (options: Partial<WorkerOptions<never>> = {}, env: Record<string, string> = {}) =>
  resolveConfig({ handler, ...options } as WorkerOptions<never>, env);

describe("resolveConfig defaults", () => {
  it("uses the documented defaults with an empty environment", () => {
    const config = resolve();
    expect(config).toMatchObject({
      concurrency: 1,
      http: { port: 9464, host: "0.0.0.0" },
      exitWhenEmpty: false,
      emptyGraceMs: 1000,
      graceMs: 30_000,
      safetyMarginMs: 3000,
      maxJobs: null,
      maxLifetimeMs: null,
      drainToken: null,
      logLevel: "info",
      kubernetes: false,
    });
  });

  it("clamps the default safety margin to 1..5 s of the grace period", () => {
    expect(resolve({}, { QUIESCE_GRACE_SECONDS: "3" }).safetyMarginMs).toBe(1000);
    expect(resolve({}, { QUIESCE_GRACE_SECONDS: "600" }).safetyMarginMs).toBe(5000);
  });
});

describe("environment and code precedence", () => {
  it("reads every QUIESCE_* variable", () => {
    const config = resolve(
      {},
      {
        QUIESCE_HTTP_PORT: "0",
        QUIESCE_HTTP_HOST: "127.0.0.1",
        QUIESCE_CONCURRENCY: "7",
        QUIESCE_EXIT_WHEN_EMPTY: "true",
        QUIESCE_EMPTY_GRACE_MS: "250",
        QUIESCE_GRACE_SECONDS: "12",
        QUIESCE_MAX_JOBS: "1",
        QUIESCE_MAX_LIFETIME_SECONDS: "3600",
        QUIESCE_DRAIN_TOKEN: "s3cret",
        QUIESCE_LOG_LEVEL: "debug",
      },
    );
    expect(config).toMatchObject({
      http: { port: 0, host: "127.0.0.1" },
      concurrency: 7,
      exitWhenEmpty: true,
      emptyGraceMs: 250,
      graceMs: 12_000,
      maxJobs: 1,
      maxLifetimeMs: 3_600_000,
      drainToken: "s3cret",
      logLevel: "debug",
    });
  });

  it("lets options in code win over the environment", () => {
    const config = resolve({ concurrency: 3, http: { port: 1234 } }, { QUIESCE_CONCURRENCY: "9", QUIESCE_HTTP_PORT: "4321" });
    expect(config.concurrency).toBe(3);
    expect(config.http).toEqual({ port: 1234, host: "0.0.0.0" });
  });

  it("accepts TERM_ON_EMPTY=1 as in Resque", () => {
    expect(resolve({}, { TERM_ON_EMPTY: "1" }).exitWhenEmpty).toBe(true);
  });

  it("disables HTTP with http: false", () => {
    expect(resolve({ http: false }).http).toBe(false);
  });
});

describe("every bad value names the setting, the accepted form and the value", () => {
  const cases: Array<[string, Partial<WorkerOptions<never>>, Record<string, string>, string]> = [
    ["concurrency env", {}, { QUIESCE_CONCURRENCY: "abc" }, 'QUIESCE_CONCURRENCY must be a positive integer, got "abc"'],
    ["concurrency zero", {}, { QUIESCE_CONCURRENCY: "0" }, 'QUIESCE_CONCURRENCY must be a positive integer, got "0"'],
    ["concurrency code", { concurrency: 1.5 }, {}, "concurrency must be a positive integer, got 1.5"],
    ["port", {}, { QUIESCE_HTTP_PORT: "70000" }, 'QUIESCE_HTTP_PORT must be a port number from 0 to 65535, got "70000"'],
    ["port text", {}, { QUIESCE_HTTP_PORT: "http" }, 'QUIESCE_HTTP_PORT must be a port number from 0 to 65535, got "http"'],
    ["exit when empty", {}, { QUIESCE_EXIT_WHEN_EMPTY: "maybe" }, 'QUIESCE_EXIT_WHEN_EMPTY must be a boolean (1/0, true/false, yes/no, on/off), got "maybe"'],
    ["term on empty", {}, { TERM_ON_EMPTY: "2" }, 'TERM_ON_EMPTY must be a boolean (1/0, true/false, yes/no, on/off), got "2"'],
    ["empty grace", {}, { QUIESCE_EMPTY_GRACE_MS: "-1" }, 'QUIESCE_EMPTY_GRACE_MS must be a non-negative integer, got "-1"'],
    ["grace", {}, { QUIESCE_GRACE_SECONDS: "soon" }, 'QUIESCE_GRACE_SECONDS must be a positive number of seconds, got "soon"'],
    ["grace zero", { graceSeconds: 0 }, {}, "graceSeconds must be a positive number of seconds, got 0"],
    ["max jobs", {}, { QUIESCE_MAX_JOBS: "1e3" }, 'QUIESCE_MAX_JOBS must be a positive integer, got "1e3"'],
    ["lifetime", {}, { QUIESCE_MAX_LIFETIME_SECONDS: "-5" }, 'QUIESCE_MAX_LIFETIME_SECONDS must be a positive number of seconds, got "-5"'],
    ["token", { drainToken: " " }, {}, 'drainToken must be a non-empty string, got " "'],
    ["log level", {}, { QUIESCE_LOG_LEVEL: "loud" }, 'QUIESCE_LOG_LEVEL must be one of debug, info, warn, error, silent, got "loud"'],
    ["busy after", {}, { POD_NAME: "p", POD_NAMESPACE: "n", QUIESCE_BUSY_AFTER_MS: "x" }, 'QUIESCE_BUSY_AFTER_MS must be a non-negative integer, got "x"'],
    ["margin vs grace", { graceSeconds: 1, safetyMarginMs: 1000 }, {}, "safety margin (1000 ms) must be shorter than the grace period (1000 ms)"],
    ["pod namespace", {}, { POD_NAME: "p" }, "POD_NAMESPACE (or kubernetes.namespace) must be set"],
  ];
  it.each(cases)("%s", (_name, options, env, message) => {
    let thrown: unknown;
    try {
      resolve(options, env);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).code).toBe("QUIESCE_CONFIG");
    expect((thrown as Error).message).toContain(message);
  });

  it("rejects a missing handler", () => {
    expect(() => resolveConfig({} as WorkerOptions<never>, {})).toThrow("handler must be a function, got undefined");
  });
});

describe("kubernetes detection", () => {
  it("is off outside a pod without POD_* variables", () => {
    expect(resolve({}, { HOSTNAME: "laptop" }).kubernetes).toBe(false);
  });

  it("turns on from the Downward API variables", () => {
    expect(resolve({}, { POD_NAME: "w-1", POD_NAMESPACE: "jobs" }).kubernetes).toMatchObject({
      podName: "w-1",
      namespace: "jobs",
      annotations: true,
      // Busy is marked with the first job since the scale-down bench (bench/README.md); it was 2000.
      busyAfterMs: 0,
      kubeconfig: null,
    });
  });

  it("falls back to HOSTNAME and the service account namespace in a pod", () => {
    const config = resolveConfig({ handler } as WorkerOptions<never>, { KUBERNETES_SERVICE_HOST: "10.0.0.1", HOSTNAME: "w-2" }, {
      serviceAccountNamespace: "ns\n",
    });
    expect(config.kubernetes).toMatchObject({ podName: "w-2", namespace: "ns" });
  });

  it("uses KUBECONFIG outside a pod", () => {
    expect(resolve({}, { POD_NAME: "p", POD_NAMESPACE: "n", KUBECONFIG: "/tmp/kc" }).kubernetes).toMatchObject({ kubeconfig: "/tmp/kc" });
  });
});
