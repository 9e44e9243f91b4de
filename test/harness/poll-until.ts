// The SDK ships the same helper to adapter authors; the tests use that one.
export { pollUntil } from "@quiesce/sdk/testing";
export type { PollUntilOptions as PollOptions } from "@quiesce/sdk/testing";
