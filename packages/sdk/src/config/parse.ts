import { ConfigError } from "../errors.js";

/**
 * Parsers shared by options and environment: each names the setting, the accepted form and the
 * value received, e.g. `QUIESCE_CONCURRENCY must be a positive integer, got "abc"`.
 */
const show = (value: unknown): string => (typeof value === "string" ? JSON.stringify(value) : String(value));

function integer(setting: string, value: unknown, min: number, form: string): number {
  const n = typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < min) {
    throw new ConfigError(`${setting} must be ${form}, got ${show(value)}`);
  }
  return n;
}

export const positiveInt = (setting: string, value: unknown): number =>
  integer(setting, value, 1, "a positive integer");

export const nonNegativeInt = (setting: string, value: unknown): number =>
  integer(setting, value, 0, "a non-negative integer");

export function port(setting: string, value: unknown): number {
  const n = integer(setting, value, 0, "a port number from 0 to 65535");
  if (n > 65535) throw new ConfigError(`${setting} must be a port number from 0 to 65535, got ${show(value)}`);
  return n;
}

/** Seconds as a positive number; fractions allowed (tests use sub-second grace periods). */
export function positiveSeconds(setting: string, value: unknown): number {
  const n = typeof value === "string" && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n) || n <= 0) {
    throw new ConfigError(`${setting} must be a positive number of seconds, got ${show(value)}`);
  }
  return n;
}

const truthy = new Set(["1", "true", "yes", "on"]);
const falsy = new Set(["0", "false", "no", "off", ""]);

export function boolean(setting: string, value: unknown): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    const v = value.trim().toLowerCase();
    if (truthy.has(v)) return true;
    if (falsy.has(v)) return false;
  }
  throw new ConfigError(`${setting} must be a boolean (1/0, true/false, yes/no, on/off), got ${show(value)}`);
}

export function nonEmptyString(setting: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new ConfigError(`${setting} must be a non-empty string, got ${show(value)}`);
  }
  return value;
}

export function oneOf<T extends string>(setting: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`${setting} must be one of ${allowed.join(", ")}, got ${show(value)}`);
}
