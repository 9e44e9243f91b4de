import type * as Sqs from "@aws-sdk/client-sqs";
import { MissingDependencyError } from "@quiesce/sdk";

export type SqsModule = typeof Sqs;

/**
 * @aws-sdk/client-sqs is an optional peer: only users of this subpath install it, so it is loaded
 * on `start()`, and a missing one says what to install.
 */
export async function loadSqs(): Promise<SqsModule> {
  try {
    const mod = (await import("@aws-sdk/client-sqs")) as SqsModule & { default?: SqsModule };
    // The SDK ships CommonJS next to ESM; named exports come through either way.
    return typeof mod.SQSClient === "function" ? mod : (mod.default as SqsModule);
  } catch (thrown) {
    const code = (thrown as { code?: unknown } | null)?.code;
    const notFound = code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
    const detail = notFound ? "it is not installed" : `it failed to load: ${(thrown as Error | null)?.message ?? String(thrown)}`;
    throw new MissingDependencyError(`@quiesce/adapters/sqs needs @aws-sdk/client-sqs: ${detail}; install it with \`npm install @aws-sdk/client-sqs@"^3"\``, { cause: thrown });
  }
}
