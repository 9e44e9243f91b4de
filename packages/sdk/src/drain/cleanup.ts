import { coerceError } from "../errors.js";
import { expired, withBound } from "../internal/bound.js";
import type { Logger } from "../logger.js";
import type { Resource } from "../resources/resources.js";
import type { Source } from "../source/source.js";

/** One thing to close after the drain. `name` starts its error line in the drain report. */
export interface CleanupStep {
  readonly name: string;
  /** Fields logged with a failure (default `{ step: name }`). */
  readonly fields?: Readonly<Record<string, unknown>>;
  run(): Promise<void> | void;
}

/**
 * Run the steps one after the other, in order. Each is isolated: a step that throws is logged and
 * reported as one line (`name: message`), and the next one still runs.
 */
export async function runCleanup(steps: readonly CleanupStep[], logger: Logger): Promise<string[]> {
  const errors: string[] = [];
  for (const step of steps) {
    const fields = step.fields ?? { step: step.name };
    try {
      await step.run();
      logger.debug(fields, `${step.name} closed`);
    } catch (thrown) {
      const error = coerceError(thrown);
      logger.error({ err: error, ...fields }, `${step.name}: close failed`);
      errors.push(`${step.name}: ${error.message}`);
    }
  }
  return errors;
}

/** A source whose broker went away can hang in stop(); the exit must still happen. */
export const sourceStopBoundMs = 5000;

export interface DrainParts {
  readonly leases: { stop(): void };
  readonly source: Source;
  /** The Kubernetes integration, when on: its last write (the draining mark) gets a moment to land. */
  readonly pod: { stop(): Promise<void> } | null;
  /** Closed last, in reverse order of registration, once no handler can use them any more. */
  readonly resources: readonly Resource[];
  readonly sourceStopBoundMs?: number;
}

/**
 * What closes after a drain, in order: lease renewals first (nothing is held any more), then the
 * source, then the pod reporter, then the user's resources LIFO (a pool opened last may depend on
 * one opened before it).
 */
export function drainCleanupSteps(parts: DrainParts): CleanupStep[] {
  const boundMs = parts.sourceStopBoundMs ?? sourceStopBoundMs;
  const steps: CleanupStep[] = [
    { name: "lease keeper", run: () => parts.leases.stop() },
    {
      name: `source ${parts.source.name}`,
      run: async () => {
        if ((await withBound(parts.source.stop(), boundMs)) === expired) {
          throw new Error(`stop did not finish within ${boundMs} ms; moving on`);
        }
      },
    },
  ];
  const pod = parts.pod;
  if (pod) steps.push({ name: "kubernetes integration", run: () => pod.stop() });
  return [...steps, ...resourceSteps(parts.resources)];
}

/** The user's resources as steps, last registered first. */
export function resourceSteps(resources: readonly Resource[]): CleanupStep[] {
  return [...resources].reverse().map((resource) => ({ name: resource.name, fields: { resource: resource.name }, run: () => resource.close() }));
}

/**
 * Close each resource in reverse order of registration (LIFO). One failing close never skips
 * the rest; every failure is logged and returned as a one-line message.
 */
export function closeInReverse(resources: readonly Resource[], logger: Logger): Promise<string[]> {
  return runCleanup(resourceSteps(resources), logger);
}
