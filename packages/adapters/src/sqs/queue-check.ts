import type { ResolvedSqsOptions } from "./options.js";

/** What start() learns from GetQueueAttributes. */
export interface QueueFacts {
  /** The redrive policy's maxReceiveCount, or null when the queue has no dead-letter queue. */
  readonly maxReceiveCount: number | null;
}

export function queueFacts(attributes: Record<string, string> | undefined): QueueFacts {
  const raw = attributes?.RedrivePolicy;
  if (!raw) return { maxReceiveCount: null };
  try {
    const policy = JSON.parse(raw) as { maxReceiveCount?: unknown };
    const count = Number(policy.maxReceiveCount);
    return { maxReceiveCount: Number.isInteger(count) && count > 0 ? count : null };
  } catch {
    return { maxReceiveCount: null };
  }
}

/**
 * The start-up warning about interruptions and the redrive policy, or null when there is nothing
 * to say. In "visibility" mode each release (a scale-down, a deadline) makes the next receive
 * count up, and maxReceiveCount counts those too: a healthy job interrupted a few times lands in
 * the dead-letter queue.
 */
export function maxReceiveCountWarning(options: ResolvedSqsOptions, facts: QueueFacts): string | null {
  const count = facts.maxReceiveCount;
  if (count === null || options.releaseMode !== "visibility" || count >= options.warnBelowMaxReceiveCount) return null;
  const alternative = options.fifo ? "raise maxReceiveCount" : 'raise maxReceiveCount or use releaseMode: "resend"';
  return (
    `SQS queue ${options.queueName}: the redrive policy's maxReceiveCount is ${count}; every release by a drain counts a receive, ` +
    `so a message interrupted by ${count} scale-downs reaches the dead-letter queue without failing once; ${alternative}`
  );
}
