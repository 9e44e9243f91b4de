import { describe, expect, it } from "vitest";
import type { WorkerOptions } from "../../src/config/options.js";
import { resolveConfig } from "../../src/config/resolve.js";
import { ConfigError } from "../../src/errors.js";

const handler = (): void => undefined;
const resolve = (options: Partial<WorkerOptions<never>> = {}, env: Record<string, string> = {}) =>
  resolveConfig({ handler, ...options } as WorkerOptions<never>, env);
const refused = (options: Partial<WorkerOptions<never>>, env: Record<string, string>): string => {
  try {
    resolve(options, env);
  } catch (thrown) {
    expect(thrown).toBeInstanceOf(ConfigError);
    return (thrown as Error).message;
  }
  throw new Error("expected a ConfigError");
};

describe("the fleet connection budget", () => {
  it("is off by default", () => {
    expect(resolve().connectionBudget).toBeNull();
    expect(resolve({}, { QUIESCE_MAX_REPLICAS: "10" }).connectionBudget).toBeNull();
  });

  it("QUIESCE_DB_MAX_CONNECTIONS ÷ QUIESCE_MAX_REPLICAS, rounded down, is each worker's share", () => {
    expect(resolve({}, { QUIESCE_DB_MAX_CONNECTIONS: "20", QUIESCE_MAX_REPLICAS: "10" }).connectionBudget).toEqual({ maxConnections: 20, maxReplicas: 10, perWorker: 2 });
    expect(resolve({}, { QUIESCE_DB_MAX_CONNECTIONS: "95", QUIESCE_MAX_REPLICAS: "10" }).connectionBudget?.perWorker).toBe(9);
  });

  it("code wins over the environment, and false turns it off", () => {
    const env = { QUIESCE_DB_MAX_CONNECTIONS: "20", QUIESCE_MAX_REPLICAS: "10" };
    expect(resolve({ connectionBudget: { maxConnections: 90, maxReplicas: 3 } }, env).connectionBudget).toEqual({ maxConnections: 90, maxReplicas: 3, perWorker: 30 });
    expect(resolve({ connectionBudget: false }, env).connectionBudget).toBeNull();
  });

  it.each([
    [{ QUIESCE_DB_MAX_CONNECTIONS: "lots", QUIESCE_MAX_REPLICAS: "2" }, 'QUIESCE_DB_MAX_CONNECTIONS must be a positive integer, got "lots"'],
    [{ QUIESCE_DB_MAX_CONNECTIONS: "20", QUIESCE_MAX_REPLICAS: "0" }, 'QUIESCE_MAX_REPLICAS must be a positive integer, got "0"'],
    [{ QUIESCE_MAX_REPLICAS: "1.5" }, 'QUIESCE_MAX_REPLICAS must be a positive integer, got "1.5"'],
    [
      { QUIESCE_DB_MAX_CONNECTIONS: "20" },
      "QUIESCE_MAX_REPLICAS (the scaler's maxReplicaCount) must be set with QUIESCE_DB_MAX_CONNECTIONS, as a positive integer, got nothing (QUIESCE_DB_MAX_CONNECTIONS is 20)",
    ],
    [
      { QUIESCE_DB_MAX_CONNECTIONS: "5", QUIESCE_MAX_REPLICAS: "10" },
      "QUIESCE_DB_MAX_CONNECTIONS must be at least QUIESCE_MAX_REPLICAS (one connection per worker at full scale), got 5 for 10 replicas",
    ],
  ])("%j is refused", (env, message) => {
    expect(refused({}, env)).toBe(message);
  });

  it("a bad value in code names the option", () => {
    expect(refused({ connectionBudget: { maxConnections: 0, maxReplicas: 1 } }, {})).toBe("connectionBudget.maxConnections must be a positive integer, got 0");
    expect(refused({ connectionBudget: "20/10" as never }, {})).toBe("connectionBudget must be false or { maxConnections, maxReplicas }, got 20/10");
  });
});
