import { CountedHistogram } from "./counted-histogram.js";
import { jobDurationBuckets, jobOutcomes, metricDefs } from "./names.js";

export type JobOutcome = (typeof jobOutcomes)[number];

/** `quiesce_job_duration_seconds{queue,outcome}`, every outcome's series there from the start. */
export function createDurationHistogram(queue: string): CountedHistogram<JobOutcome> {
  return new CountedHistogram(
    metricDefs.jobDuration,
    jobDurationBuckets,
    jobOutcomes.map((outcome) => [outcome, { queue, outcome }] as const),
  );
}
