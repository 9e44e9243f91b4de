import { coerceError, ConfigError, MissingDependencyError, SourceError } from "../errors.js";
import { sleep } from "../internal/timers.js";
import type { Logger } from "../logger.js";
import type { Source, SourceStartContext } from "./source.js";

/**
 * Start a source, retrying with exponential backoff (100 ms doubling to 5 s): a broker that is
 * still booting next to the worker is normal on Kubernetes. Still unreachable after `failureMs`
 * is fatal. A missing client library is fatal at once: no retry installs it, and its message says
 * what to install. So is a ConfigError (a missing queue, refused credentials): no retry can fix a
 * setting. Resolves false when `stop` aborted first (a drain began while connecting).
 */
export async function connectWithRetry(source: Source, context: SourceStartContext, failureMs: number, stop: AbortSignal, logger: Logger): Promise<boolean> {
  const since = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      await source.start(context);
      return !stop.aborted;
    } catch (thrown) {
      const error = coerceError(thrown);
      if (error instanceof MissingDependencyError || error instanceof ConfigError) throw error;
      if (stop.aborted) return false;
      const elapsed = Date.now() - since;
      if (elapsed >= failureMs) {
        throw new SourceError(`${source.name}: broker unreachable for ${elapsed} ms: ${error.message}`, { cause: error });
      }
      logger.warn({ err: error, attempt }, "source start failed; retrying");
      await sleep(Math.min(5000, 100 * 2 ** attempt), stop);
      if (stop.aborted) return false;
    }
  }
}
