/**
 * "@quiesce/sdk/source-kit": the small toolkit a source's author shares with the SDK itself, so
 * an adapter checks its options and bounds its waits the way the worker does. Kept small on
 * purpose; the Source and Delivery types themselves come from "@quiesce/sdk".
 *
 * - Option checks: each failure is a ConfigError `<setting> must be <form>, got <value>`.
 *   Use the stock checks, or `check(form, accept)` for a form of your own, and `optional()`
 *   for an option with a default.
 * - `withBound(promise, ms)`: await at most `ms`; resolves with `expired` when the bound came first.
 */
export { check, invalid, nonNegativeInt, nonNegativeMs, optional, positiveInt, positiveMs, show } from "../internal/validate.js";
export type { Check } from "../internal/validate.js";
export { expired, withBound } from "../internal/bound.js";
export type { BoundOptions } from "../internal/bound.js";
