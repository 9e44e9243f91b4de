import { coerceError } from "../errors.js";
import type { Logger } from "../logger.js";

/**
 * Something the worker owns besides the source (a database pool, a client): closed after the
 * drain, once the last delivery settled, so handlers never see it closed under them.
 */
export interface Resource {
  readonly name: string;
  close(): Promise<void>;
}

/**
 * Close each resource in reverse order of registration (LIFO). One failing close never skips
 * the rest; every failure is logged and returned as a one-line message.
 */
export async function closeInReverse(resources: readonly Resource[], logger: Logger): Promise<string[]> {
  const errors: string[] = [];
  for (const resource of [...resources].reverse()) {
    try {
      await resource.close();
      logger.debug({ resource: resource.name }, "resource closed");
    } catch (thrown) {
      const error = coerceError(thrown);
      logger.error({ err: error, resource: resource.name }, "resource close failed");
      errors.push(`${resource.name}: ${error.message}`);
    }
  }
  return errors;
}
