import { ConfigError } from "../errors.js";
import type { LogLevel } from "../logger.js";
import type { PodReportTuning, ResolvedConfig, ResolvedKubernetes, WorkerOptions } from "./options.js";
import {
  boolean,
  nonEmptyString,
  nonNegativeInt,
  oneOf,
  port,
  positiveInt,
  positiveSeconds,
} from "./parse.js";

export type Env = Readonly<Record<string, string | undefined>>;

/** What the caller found on disk; kept out of this function so it stays pure. */
export interface EnvironmentHints {
  /** Contents of /var/run/secrets/kubernetes.io/serviceaccount/namespace, when present. */
  readonly serviceAccountNamespace?: string;
}

/** All defaults in one place (the black-box contract's documented values). */
export const defaults = {
  concurrency: 1,
  httpPort: 9464,
  httpHost: "0.0.0.0",
  emptyGraceMs: 1000,
  graceSeconds: 30,
  sourceFailureMs: 30_000,
  busyAfterMs: 0,
  logLevel: "info" as LogLevel,
} as const;

const logLevels: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];

/**
 * Options in code win over the environment; every value is validated and a bad one throws a
 * {@link ConfigError} naming the option or variable, the accepted form and the value received.
 */
type Parse<T> = (setting: string, value: unknown) => T;

/** The value from code when given, else the variable when set and non-empty, else undefined; parsed under its own name. */
function codeOrEnv<T>(option: string, fromCode: unknown, env: Env, variable: string, parse: Parse<T>): T | undefined {
  if (fromCode !== undefined) return parse(option, fromCode);
  const fromEnv = env[variable];
  if (fromEnv !== undefined && fromEnv !== "") return parse(variable, fromEnv);
  return undefined;
}

export function resolveConfig(options: WorkerOptions<never>, env: Env, hints: EnvironmentHints = {}): ResolvedConfig {
  const pick = <T>(option: keyof WorkerOptions<never>, variable: string, parse: Parse<T>): T | undefined =>
    codeOrEnv(String(option), options[option], env, variable, parse);

  if (typeof options.handler !== "function") {
    throw new ConfigError(`handler must be a function, got ${typeof options.handler}`);
  }

  const concurrency = pick("concurrency", "QUIESCE_CONCURRENCY", positiveInt) ?? defaults.concurrency;
  const graceSeconds = pick("graceSeconds", "QUIESCE_GRACE_SECONDS", positiveSeconds) ?? defaults.graceSeconds;
  const graceMs = Math.round(graceSeconds * 1000);
  const safetyMarginMs =
    pick("safetyMarginMs", "QUIESCE_SAFETY_MARGIN_MS", nonNegativeInt) ?? Math.min(5000, Math.max(1000, graceMs / 10));
  if (safetyMarginMs >= graceMs) {
    throw new ConfigError(
      `safety margin (${safetyMarginMs} ms) must be shorter than the grace period (${graceMs} ms): ` +
        `raise QUIESCE_GRACE_SECONDS or lower QUIESCE_SAFETY_MARGIN_MS`,
    );
  }

  const exitWhenEmpty =
    pick("exitWhenEmpty", "QUIESCE_EXIT_WHEN_EMPTY", boolean) ??
    (env.TERM_ON_EMPTY !== undefined && env.TERM_ON_EMPTY !== "" ? boolean("TERM_ON_EMPTY", env.TERM_ON_EMPTY) : false);
  const maxLifetimeSeconds = pick("maxLifetimeSeconds", "QUIESCE_MAX_LIFETIME_SECONDS", positiveSeconds);
  const drainToken = pick("drainToken", "QUIESCE_DRAIN_TOKEN", nonEmptyString) ?? null;
  const logLevelRaw = env.QUIESCE_LOG_LEVEL;
  const logLevel =
    logLevelRaw === undefined || logLevelRaw === ""
      ? defaults.logLevel
      : oneOf("QUIESCE_LOG_LEVEL", logLevelRaw, logLevels);

  return {
    concurrency,
    http: resolveHttp(options, env),
    exitWhenEmpty,
    emptyGraceMs: pick("emptyGraceMs", "QUIESCE_EMPTY_GRACE_MS", nonNegativeInt) ?? defaults.emptyGraceMs,
    graceMs,
    safetyMarginMs,
    maxJobs: pick("maxJobs", "QUIESCE_MAX_JOBS", positiveInt) ?? null,
    maxLifetimeMs: maxLifetimeSeconds === undefined ? null : Math.round(maxLifetimeSeconds * 1000),
    drainToken,
    sourceFailureMs: pick("sourceFailureMs", "QUIESCE_SOURCE_FAILURE_MS", positiveInt) ?? defaults.sourceFailureMs,
    logLevel,
    kubernetes: resolveKubernetes(options, env, hints),
    connectionBudget: resolveConnectionBudget(options, env),
    checkpointDrain: options.checkpoints?.drain === undefined ? "release" : oneOf("checkpoints.drain", options.checkpoints.drain, ["release", "deadline"]),
  };
}

/** Both numbers or neither: a connection count without the replica count it is shared by cannot be split. */
function resolveConnectionBudget(options: WorkerOptions<never>, env: Env): ResolvedConfig["connectionBudget"] {
  const given = options.connectionBudget;
  if (given === false) return null;
  if (given !== undefined && (typeof given !== "object" || given === null)) {
    throw new ConfigError(`connectionBudget must be false or { maxConnections, maxReplicas }, got ${String(given)}`);
  }
  const maxConnections = codeOrEnv("connectionBudget.maxConnections", given?.maxConnections, env, "QUIESCE_DB_MAX_CONNECTIONS", positiveInt);
  const maxReplicas = codeOrEnv("connectionBudget.maxReplicas", given?.maxReplicas, env, "QUIESCE_MAX_REPLICAS", positiveInt);
  if (maxConnections === undefined) return null;
  if (maxReplicas === undefined) {
    throw new ConfigError(
      `QUIESCE_MAX_REPLICAS (the scaler's maxReplicaCount) must be set with QUIESCE_DB_MAX_CONNECTIONS, as a positive integer, got nothing (QUIESCE_DB_MAX_CONNECTIONS is ${maxConnections})`,
    );
  }
  const perWorker = Math.floor(maxConnections / maxReplicas);
  if (perWorker < 1) {
    throw new ConfigError(
      `QUIESCE_DB_MAX_CONNECTIONS must be at least QUIESCE_MAX_REPLICAS (one connection per worker at full scale), got ${maxConnections} for ${maxReplicas} replicas`,
    );
  }
  return { maxConnections, maxReplicas, perWorker };
}

function resolveHttp(options: WorkerOptions<never>, env: Env): ResolvedConfig["http"] {
  if (options.http === false) return false;
  if (options.http !== undefined && (typeof options.http !== "object" || options.http === null)) {
    throw new ConfigError(`http must be false or { port?, host? }, got ${String(options.http)}`);
  }
  const fromCode = options.http ?? {};
  return {
    port: codeOrEnv("http.port", fromCode.port, env, "QUIESCE_HTTP_PORT", port) ?? defaults.httpPort,
    host: codeOrEnv("http.host", fromCode.host, env, "QUIESCE_HTTP_HOST", nonEmptyString) ?? defaults.httpHost,
  };
}

function resolveKubernetes(options: WorkerOptions<never>, env: Env, hints: EnvironmentHints): ResolvedKubernetes | false {
  if (options.kubernetes === false) return false;
  const k = options.kubernetes ?? {};
  const inPod = Boolean(env.KUBERNETES_SERVICE_HOST);
  const podName = k.podName ?? (env.POD_NAME || (inPod ? env.HOSTNAME : undefined));
  const namespace = k.namespace ?? (env.POD_NAMESPACE || hints.serviceAccountNamespace?.trim());
  // Enabled by explicit options, by the Downward API variables, or by running in a pod.
  const wanted = options.kubernetes !== undefined || Boolean(env.POD_NAME || env.POD_NAMESPACE) || inPod;
  if (!wanted) return false;
  if (!podName || !namespace) {
    if (options.kubernetes === undefined && !env.POD_NAME && !env.POD_NAMESPACE) return false;
    const missing = !podName ? "POD_NAME (or kubernetes.podName)" : "POD_NAMESPACE (or kubernetes.namespace)";
    throw new ConfigError(`${missing} must be set for the Kubernetes reporter (Downward API fieldRef metadata.name / metadata.namespace)`);
  }
  const busyAfterMs =
    codeOrEnv("kubernetes.busyAfterMs", k.busyAfterMs, env, "QUIESCE_BUSY_AFTER_MS", nonNegativeInt) ?? defaults.busyAfterMs;
  const flag = (name: "annotations" | "safeToEvict" | "doNotDisrupt"): boolean =>
    k[name] === undefined ? true : boolean(`kubernetes.${name}`, k[name]);
  return {
    podName,
    namespace,
    annotations: flag("annotations"),
    safeToEvict: flag("safeToEvict"),
    doNotDisrupt: flag("doNotDisrupt"),
    busyAfterMs,
    kubeconfig: k.kubeconfig ?? (inPod ? null : env.KUBECONFIG || null),
    ...(k.podApi === undefined ? {} : { podApi: k.podApi }),
    ...(k.tuning === undefined ? {} : { tuning: resolveTuning(k.tuning) }),
  };
}

function resolveTuning(t: PodReportTuning): PodReportTuning {
  const ms = (name: "quietMs" | "minIntervalMs" | "jitterMs"): Partial<PodReportTuning> =>
    t[name] === undefined ? {} : { [name]: nonNegativeInt(`kubernetes.tuning.${name}`, t[name]) };
  const flag = (name: "withdrawUnshown" | "idleSkipsInterval"): Partial<PodReportTuning> =>
    t[name] === undefined ? {} : { [name]: boolean(`kubernetes.tuning.${name}`, t[name]) };
  let idleCost: Partial<PodReportTuning> = {};
  if (t.idleCost !== undefined) {
    // The API server rejects a pod-deletion-cost outside int32.
    if (!Number.isSafeInteger(t.idleCost) || t.idleCost < -(2 ** 31) || t.idleCost > 0) {
      throw new ConfigError(`kubernetes.tuning.idleCost must be an integer from -2147483648 to 0, got ${String(t.idleCost)}`);
    }
    idleCost = { idleCost: t.idleCost };
  }
  return { ...ms("quietMs"), ...ms("minIntervalMs"), ...ms("jitterMs"), ...flag("withdrawUnshown"), ...flag("idleSkipsInterval"), ...idleCost };
}
