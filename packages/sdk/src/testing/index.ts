// "@quiesce/sdk/testing": helpers for users' and adapters' tests. The only entry point that
// imports vitest (an optional peer), so the runtime itself never loads it. The memory source
// these tests often use comes from "@quiesce/sdk" itself.
export { describeSourceConformance } from "./source-conformance.js";
export type { ConformanceCapabilities, ConformanceHarness, ConformanceOptions, PublishOptions } from "./source-conformance.js";
export { pollUntil } from "./poll-until.js";
export type { PollUntilOptions, Truthy } from "./poll-until.js";
export { describeCheckpointConformance, describeCheckpointStoreConformance } from "./checkpoint-conformance.js";
export type { CheckpointHarness } from "./checkpoint-conformance.js";
export { withoutCheckpoints } from "./without-checkpoints.js";
