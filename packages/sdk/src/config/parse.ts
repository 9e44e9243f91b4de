import { check, invalid, type Check } from "../internal/validate.js";

/**
 * The worker's checks, shared by options and environment variables: the same family as every
 * other option check (internal/validate.ts), except that these also read the text an environment
 * variable carries, e.g. `QUIESCE_CONCURRENCY must be a positive integer, got "abc"`.
 */
const integerText = /^\s*[+-]?\d+\s*$/;
const decimalText = /^\s*\d+(\.\d+)?\s*$/;

const integerAtLeast = (min: number) => (value: unknown) => {
  const n = typeof value === "string" && integerText.test(value) ? Number(value) : value;
  return typeof n === "number" && Number.isSafeInteger(n) && n >= min ? n : undefined;
};

export const positiveInt: Check<number> = check("a positive integer", integerAtLeast(1));

export const nonNegativeInt: Check<number> = check("a non-negative integer", integerAtLeast(0));

export const port: Check<number> = check("a port number from 0 to 65535", (value) => {
  const n = integerAtLeast(0)(value);
  return n !== undefined && n <= 65535 ? n : undefined;
});

/** Seconds as a positive number; fractions allowed (tests use sub-second grace periods). */
export const positiveSeconds: Check<number> = check("a positive number of seconds", (value) => {
  const n = typeof value === "string" && decimalText.test(value) ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : undefined;
});

const truthy = new Set(["1", "true", "yes", "on"]);
const falsy = new Set(["0", "false", "no", "off", ""]);

export const boolean: Check<boolean> = check("a boolean (1/0, true/false, yes/no, on/off)", (value) => {
  if (typeof value === "boolean") return value;
  if (typeof value !== "string") return undefined;
  const v = value.trim().toLowerCase();
  return truthy.has(v) ? true : falsy.has(v) ? false : undefined;
});

export const nonEmptyString: Check<string> = check("a non-empty string", (value) =>
  typeof value === "string" && value.trim() !== "" ? value : undefined,
);

export function oneOf<T extends string>(setting: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  throw invalid(setting, `one of ${allowed.join(", ")}`, value);
}
