import { ConfigError } from "../errors.js";

/**
 * The one family of option checks, used by the worker's config, the memory source and the
 * adapters (through "@quiesce/sdk/source-kit"). Every failure is a ConfigError in one shape,
 * naming the setting, the accepted form and the value received:
 * `createBullmqSource: lockDurationMs must be a positive integer, got 1.5`.
 */

/** Checks one setting's value and returns it (parsed where the check parses); throws a ConfigError otherwise. */
export type Check<T> = (setting: string, value: unknown) => T;

/** How a received value is shown: strings quoted, objects and arrays by their kind only (they may hold secrets). */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}

/** The error every check throws: `<setting> must be <form>, got <value>`. */
export function invalid(setting: string, form: string, value: unknown): ConfigError {
  return new ConfigError(`${setting} must be ${form}, got ${show(value)}`);
}

/**
 * A check from the accepted form (as the message says it) and a test that returns the accepted
 * value, or undefined to refuse it.
 */
export function check<T>(form: string, accept: (value: unknown) => T | undefined): Check<T> {
  return (setting, value) => {
    const accepted = accept(value);
    if (accepted === undefined) throw invalid(setting, form, value);
    return accepted;
  };
}

/** `value` checked, or `fallback` when it is undefined (the option was left out). */
export function optional<T>(validate: Check<T>, setting: string, value: unknown, fallback: T): T {
  return value === undefined ? fallback : validate(setting, value);
}

const integerAtLeast = (min: number) => (value: unknown) =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= min ? value : undefined;
const finiteAtLeast = (min: number, inclusive: boolean) => (value: unknown) =>
  typeof value === "number" && Number.isFinite(value) && (inclusive ? value >= min : value > min) ? value : undefined;

// The stock checks, for options given in code: a number must be a number (no numeric strings).

/** An integer >= 1. */
export const positiveInt: Check<number> = check("a positive integer", integerAtLeast(1));
/** An integer >= 0. */
export const nonNegativeInt: Check<number> = check("an integer >= 0", integerAtLeast(0));
/** A duration > 0 ms, fractions allowed. */
export const positiveMs: Check<number> = check("a positive finite number of ms", finiteAtLeast(0, false));
/** A duration >= 0 ms, fractions allowed. */
export const nonNegativeMs: Check<number> = check("a finite number of ms >= 0", finiteAtLeast(0, true));
