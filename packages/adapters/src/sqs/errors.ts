import { ConfigError, LeaseLostError, SourceError, coerceError } from "@quiesce/sdk";

/**
 * Error codes that say "this receipt handle no longer holds the message": its visibility ran
 * out (someone else may have received it), it was deleted, or the handle is from an older
 * receive. Each is a lost lease, never a failure to retry.
 */
const lostLeaseCodes = new Set(["ReceiptHandleIsInvalid", "MessageNotInflight", "InvalidReceiptHandle"]);

/** Settings that no retry can fix: the worker must stop with one line saying which. */
const credentialCodes = new Set([
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "SignatureDoesNotMatch",
  "InvalidSignatureException",
  "IncompleteSignature",
  "MissingAuthenticationToken",
  "AccessDenied",
  "AccessDeniedException",
  "InvalidSecurity",
  "ExpiredToken",
  "ExpiredTokenException",
  "CredentialsProviderError",
]);
const missingQueueCodes = new Set(["QueueDoesNotExist", "NonExistentQueue"]);

/**
 * An error's code: modeled ones carry `name`; others may come as `AWS.SimpleQueueService.<Code>`
 * (the query protocol's spelling) or in `Code`. Compare by the last dotted part.
 */
export function errorCode(thrown: unknown): string {
  const error = thrown as { name?: unknown; Code?: unknown; code?: unknown } | null;
  const raw = [error?.Code, error?.name, error?.code].find((value) => typeof value === "string" && value.length > 0) as string | undefined;
  return raw?.split(".").at(-1) ?? "";
}

/** Receipt handle expired (SQS says so in an InvalidParameterValue message). */
function expiredHandle(code: string, message: string): boolean {
  return code === "InvalidParameterValue" && /receipt handle/i.test(message);
}

export function isLostLease(code: string, message: string): boolean {
  return lostLeaseCodes.has(code) || expiredHandle(code, message);
}

/** A failed call, mapped: lost lease, fatal setting (ConfigError), or SourceError for the runtime to back off on. */
export function sqsError(operation: string, subject: string, thrown: unknown): Error {
  const error = coerceError(thrown);
  const code = errorCode(thrown);
  return entryError(operation, subject, code, error.message, error);
}

/** Same mapping for one entry of a *Batch answer (code and message, no exception). */
export function entryError(operation: string, subject: string, code: string, message: string, cause?: unknown): Error {
  const text = `SQS ${operation} failed for ${subject}: ${code ? `${code}: ` : ""}${message}`;
  if (isLostLease(code, message)) return new LeaseLostError(`${text} (this worker's hold on the message is gone)`, { cause });
  if (credentialCodes.has(code)) return new ConfigError(`${text} (check the AWS credentials and the IAM policy for this queue)`, { cause });
  if (missingQueueCodes.has(code)) return new ConfigError(`${text} (queueUrl names no queue the credentials can see)`, { cause });
  return new SourceError(text, { cause });
}
