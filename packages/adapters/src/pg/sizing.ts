import type { ConnectionBudget } from "@quiesce/sdk";

export interface SizingInput {
  readonly name: string;
  readonly concurrency: number;
  /** This worker's budget when the pool draws on it, else null. */
  readonly budget: ConnectionBudget | null;
  /** The `max` option for an owned pool (null: not set); a passed-in pool's own `options.max`. */
  readonly configuredMax: number | null | undefined;
  readonly passedIn: boolean;
}

export interface Sizing {
  readonly max: number;
  /** The start-up line: the size and where it comes from. */
  readonly line: string;
  /** The pool is smaller than the concurrency: some jobs will wait for a connection. */
  readonly warning?: string;
  /** A passed-in pool larger than this worker's share of the budget: start-up must stop. */
  readonly error?: string;
}

/**
 * How many connections a pool may open: the concurrency unless `max` says otherwise (a job holds
 * at most one connection at a time through the handle), never more than this pool's share of the
 * fleet budget. Pure, so every message is unit-tested.
 */
export function sizePool(input: SizingInput): Sizing {
  const { name, concurrency, budget, passedIn } = input;
  const share = budget === null ? "" : budgetText(budget);
  if (passedIn) {
    const max = input.configuredMax ?? 10;
    if (budget !== null && max > budget.perPool) {
      return {
        max,
        line: "",
        error:
          `pgResource("${name}"): the pool passed in allows max ${max} connections, above this worker's share of the fleet budget, ` +
          `${budget.perPool} (${share}); create it with max: ${budget.perPool}, or pass budget: false for a pool to another server`,
      };
    }
    const line = `pg pool "${name}" (passed in, observed): max ${max} connections${budget === null ? "" : ` within ${share}`}`;
    return { max, line, ...belowConcurrency(name, max, concurrency, "its max") };
  }
  const wanted = input.configuredMax ?? concurrency;
  const from = input.configuredMax == null ? `the worker's concurrency ${concurrency}` : `the max option`;
  if (budget !== null && budget.perPool < wanted) {
    const max = budget.perPool;
    const asked = input.configuredMax == null ? "the worker's concurrency" : "the max option";
    const line = `pg pool "${name}": max ${max} connections (${share}; ${asked} asks for ${wanted})`;
    return { max, line, ...belowConcurrency(name, max, concurrency, "the fleet budget") };
  }
  const line = `pg pool "${name}": max ${wanted} connections (${from}${budget === null ? "; no fleet budget set" : `, within ${share}`})`;
  return { max: wanted, line, ...belowConcurrency(name, wanted, concurrency, "the max option") };
}

function budgetText(budget: ConnectionBudget): string {
  const perWorker = `QUIESCE_DB_MAX_CONNECTIONS ${budget.maxConnections} ÷ QUIESCE_MAX_REPLICAS ${budget.maxReplicas} = ${budget.perWorker} per worker`;
  return budget.pools > 1 ? `${perWorker} ÷ ${budget.pools} pools = ${budget.perPool} for this one` : perWorker;
}

function belowConcurrency(name: string, max: number, concurrency: number, why: string): { warning?: string } {
  if (max >= concurrency) return {};
  return {
    warning: `pgResource("${name}"): ${why} limits the pool to ${max} connections, below the worker's concurrency ${concurrency}: up to ${concurrency - max} running jobs at a time wait for a connection`,
  };
}
