import { parseArgs } from "node:util";
import { defaultScenario, realTimeScenario, type Scenario } from "./sim/scenario.js";

export interface DemoArgs {
  readonly scenario: Scenario;
  readonly json: boolean;
  /** Where the timeline goes; null with --no-svg. */
  readonly svg: string | null;
  /** Virtual ms per real ms; Infinity with --fast. */
  readonly speed: number;
  readonly lagMs: number;
  /** With --redis: real processes over BullMQ on this Redis, on the real clock. */
  readonly redis: string | null;
}

export const usage = `pnpm demo [-- options]

  --seed N         the story's seed (jobs, churn, jitter)                 default 1
  --workers N      replicas at the start and at each scale-up             default 8
  --grace S        terminationGracePeriodSeconds                          default 10 (2 with --redis)
  --schedule LIST  replica counts the scaler goes through, comma-separated default 2,8,6,8,5,8,4,8
  --lag MS         how far the ReplicaSet's informer trails the pods       default 0
  --speed X        virtual seconds per real second                        default 10
  --fast           no pacing: as fast as it goes
  --redis URL      the same show with real processes over BullMQ on this Redis (redis://HOST:PORT),
                   real signals and the real clock, five times faster: about 75 s
  --json           print the results as one JSON object instead of the table
  --svg FILE       the timeline picture                                   default demo.svg
  --no-svg         no picture`;

/** Thrown for a bad flag: the message names the flag, the accepted form and the value. */
export class UsageError extends Error {}

export function parseDemoArgs(argv: readonly string[]): DemoArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      seed: { type: "string" },
      workers: { type: "string" },
      grace: { type: "string" },
      schedule: { type: "string" },
      lag: { type: "string" },
      speed: { type: "string" },
      fast: { type: "boolean" },
      json: { type: "boolean" },
      svg: { type: "string" },
      "no-svg": { type: "boolean" },
      redis: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) throw new UsageError(usage);
  const int = (flag: string, raw: string | undefined, fallback: number, min: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${flag} must be an integer >= ${min}, got "${raw}"`);
    return n;
  };
  const redis = values.redis === undefined ? null : redisUrl(values.redis);
  if (redis !== null && (values.fast || values.speed !== undefined)) throw new UsageError("--speed and --fast do not go with --redis: real processes run on the real clock");
  const base = redis === null ? defaultScenario : realTimeScenario;
  const workers = int("workers", values.workers, base.replicas, 1);
  let schedule = base.schedule.map((n) => (n === base.replicas ? workers : Math.min(n, workers)));
  if (values.schedule !== undefined) {
    const parts = values.schedule.split(",").map((p) => Number(p.trim()));
    if (parts.length === 0 || parts.some((n) => !Number.isInteger(n) || n < 0)) {
      throw new UsageError(`--schedule must be replica counts separated by commas (e.g. 2,8,4,8), got "${values.schedule}"`);
    }
    schedule = parts;
  }
  const grace = values.grace === undefined ? base.graceSeconds : Number(values.grace);
  if (!(grace >= 2 && Number.isFinite(grace))) throw new UsageError(`--grace must be a number of seconds >= 2, got "${values.grace}"`);
  const speed = values.fast ? Infinity : values.speed === undefined ? 10 : Number(values.speed);
  if (!(speed > 0)) throw new UsageError(`--speed must be a positive number, got "${values.speed}"`);
  return {
    scenario: { ...base, seed: int("seed", values.seed, 1, 0), replicas: workers, schedule, graceSeconds: grace },
    json: values.json ?? false,
    svg: values["no-svg"] ? null : (values.svg ?? "demo.svg"),
    speed,
    lagMs: int("lag", values.lag, 0, 0),
    redis,
  };
}

function redisUrl(raw: string): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== "redis:" || url.hostname === "") throw new UsageError(`--redis must be a URL like redis://127.0.0.1:6379, got "${raw}"`);
  return raw;
}
