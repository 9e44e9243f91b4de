/**
 * One base class with stable codes; subclasses only where callers branch on them.
 * `instanceof` goes through a Symbol.for brand so two installed copies of the SDK still match.
 */
const brand = Symbol.for("quiesce.error");

export type QuiesceErrorCode =
  | "QUIESCE_CONFIG"
  | "QUIESCE_ILLEGAL_STATE"
  | "QUIESCE_LEASE_LOST"
  | "QUIESCE_DRAIN_DEADLINE"
  | "QUIESCE_SOURCE"
  | "QUIESCE_MISSING_DEPENDENCY"
  | "QUIESCE_KUBERNETES_API"
  | "QUIESCE_CHECKPOINT";

export class QuiesceError extends Error {
  readonly code: QuiesceErrorCode;

  constructor(code: QuiesceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== "object" || value === null || !(brand in value)) return false;
    // Subclasses match on their own code; the base class matches every quiesce error.
    const expected = (this as unknown as { expectedCode?: QuiesceErrorCode }).expectedCode;
    return expected === undefined || (value as unknown as QuiesceError).code === expected;
  }
}
Object.defineProperty(QuiesceError.prototype, brand, { value: true });

function subclass(code: QuiesceErrorCode) {
  return class extends QuiesceError {
    static readonly expectedCode = code;
    constructor(message: string, options?: { cause?: unknown }) {
      super(code, message, options);
    }
  };
}

/** A setting (option or environment variable) has a bad value; the message names it. */
export class ConfigError extends subclass("QUIESCE_CONFIG") {}
/** A lifecycle transition that the state machine does not allow. */
export class IllegalStateError extends subclass("QUIESCE_ILLEGAL_STATE") {}
/** A delivery's lease could not be renewed: the job must stop and never be acked by this worker. */
export class LeaseLostError extends subclass("QUIESCE_LEASE_LOST") {}
/** The drain took the job back while it ran (the deadline came, or it had just checkpointed): it was released. */
export class DrainDeadlineError extends subclass("QUIESCE_DRAIN_DEADLINE") {}
/** A backend operation failed; the message starts with the operation. */
export class SourceError extends subclass("QUIESCE_SOURCE") {}
/** An optional peer dependency is not installed; the message says what to install. */
export class MissingDependencyError extends subclass("QUIESCE_MISSING_DEPENDENCY") {}

/**
 * `ctx.checkpoint()` could not store the value: not JSON-serialisable, too large for the backend,
 * no place to keep it, or the job is no longer held. The job itself is untouched: catch it and go
 * on, or let it fail the attempt through the backend's retry path.
 */
export class CheckpointError extends subclass("QUIESCE_CHECKPOINT") {}

/** Turn anything thrown into an Error, keeping the original as `cause` when it was not one. */
export function coerceError(value: unknown): Error {
  if (value instanceof Error) return value;
  const text = typeof value === "string" ? value : safeStringify(value);
  return new Error(`non-error thrown: ${text}`, { cause: value });
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
