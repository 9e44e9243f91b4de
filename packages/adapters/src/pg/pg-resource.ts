import type { Pool, PoolClient, QueryConfig, QueryResult, QueryResultRow } from "pg";
import {
  ConfigError,
  IllegalStateError,
  noopLogger,
  poolResource,
  type Logger,
  type PoolConnections,
  type Resource,
  type ResourceContext,
  type ResourceJob,
} from "@quiesce/sdk";
import { loadPg } from "./load.js";
import type { ResolvedPgOptions } from "./options.js";
import { fromSignal, type AbortSource } from "./abort.js";
import { Session } from "./session.js";
import { sizePool } from "./sizing.js";

export interface PgQueryOptions {
  /** Cancels the query on the server when it aborts. @defaultValue the job's `ctx.signal` through `ctx.resources` */
  readonly signal?: AbortSignal;
}

/** Something to run queries on: the pool (one checkout per query) or a transaction's connection. */
export interface PgQueryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string | QueryConfig, values?: unknown[], options?: PgQueryOptions): Promise<QueryResult<R>>;
}

/** What handlers use: `ctx.resources.<name>`, or the resource object itself with an explicit signal. */
export interface PgHandle extends PgQueryable {
  /**
   * BEGIN, `fn` on one connection, COMMIT; ROLLBACK when `fn` throws or the signal aborts (an
   * aborted job commits nothing), then the connection goes back to the pool.
   */
  transaction<T>(fn: (tx: PgQueryable) => Promise<T>, options?: PgQueryOptions): Promise<T>;
  /** The pg.Pool itself, for what the handle does not cover; queries run on it directly are not cancelled with the job. */
  readonly pool: Pool;
}

/**
 * A pg.Pool as a worker resource: sized at start-up from the worker's concurrency and the fleet's
 * connection budget, idled down when quiet, observed for metrics, and ended after the drain once
 * the last job settled. Queries run through it are cancelled on the server when their signal aborts.
 */
export class PgResource implements Resource<PgHandle>, PgHandle {
  readonly name: string;
  readonly usesConnectionBudget: boolean;
  readonly #options: ResolvedPgOptions;
  #pool: Pool | null;
  #closer: Resource | null = null;
  #logger: Logger = noopLogger;
  #observeWait: (seconds: number) => void = () => undefined;
  #max = Number.POSITIVE_INFINITY;

  constructor(options: ResolvedPgOptions) {
    this.#options = options;
    this.name = options.name;
    this.usesConnectionBudget = options.budget;
    this.#pool = options.pool;
  }

  get pool(): Pool {
    if (!this.#pool) throw new IllegalStateError(`pgResource("${this.name}"): the pool exists once the worker has started`);
    return this.#pool;
  }

  async start(context: ResourceContext): Promise<void> {
    if (this.#closer) throw new IllegalStateError(`pgResource("${this.name}") is already started; give each worker its own`);
    const logger = context.logger.child({ resource: this.name });
    this.#logger = logger;
    this.#observeWait = context.observeWait;
    const given = this.#options.pool;
    const sizing = sizePool({
      name: this.name,
      concurrency: context.concurrency,
      budget: this.usesConnectionBudget ? context.connectionBudget : null,
      configuredMax: given ? given.options.max : this.#options.max,
      passedIn: given !== null,
    });
    if (sizing.error) throw new ConfigError(sizing.error);
    this.#max = sizing.max;
    if (sizing.warning) logger.warn({ max: sizing.max, concurrency: context.concurrency }, sizing.warning);
    logger.info({ max: sizing.max, concurrency: context.concurrency, idleTimeoutMs: given ? given.options.idleTimeoutMillis : this.#options.idleTimeoutMs }, sizing.line);
    if (given) {
      // An idle client's socket error is emitted on the pool; with no listener it would crash the worker.
      if (given.listenerCount("error") === 0) given.on("error", (error) => logger.warn({ err: error }, "pg idle client error (the pool replaces it)"));
      this.#closer = { name: this.name, close: async () => undefined };
      return;
    }
    const pg = await loadPg();
    const pool = new pg.Pool({ ...this.#options.connection, max: sizing.max, idleTimeoutMillis: this.#options.idleTimeoutMs });
    pool.on("error", (error) => logger.warn({ err: error }, "pg idle client error (the pool replaces it)"));
    this.#pool = pool;
    this.#closer = poolResource(this.name, pool, { closeTimeoutMs: this.#options.closeTimeoutMs });
  }

  forJob(job: ResourceJob): PgHandle {
    return new JobPg(this, job);
  }

  connections(): PoolConnections {
    const pool = this.#pool;
    if (!pool) return { idle: 0, busy: 0, waiting: 0 };
    return { idle: pool.idleCount, busy: pool.totalCount - pool.idleCount, waiting: pool.waitingCount };
  }

  /** Ends an owned pool (bounded by closeTimeoutMs); a passed-in pool is left to its owner. */
  async close(): Promise<void> {
    await this.#closer?.close();
  }

  query<R extends QueryResultRow = QueryResultRow>(text: string | QueryConfig, values?: unknown[], options?: PgQueryOptions): Promise<QueryResult<R>> {
    return this.run<R>(text, values, options?.signal ? fromSignal(options.signal) : undefined);
  }

  transaction<T>(fn: (tx: PgQueryable) => Promise<T>, options?: PgQueryOptions): Promise<T> {
    return this.runTransaction(fn, options?.signal ? fromSignal(options.signal) : undefined);
  }

  /**
   * One query on a connection of its own, stopped by `abort` (the per-job handle's way in).
   * Promise chains rather than async/await: this runs once per query, and each async frame costs.
   * The release reaction is registered first, so the connection is back before the caller resumes.
   * @internal
   */
  run<R extends QueryResultRow>(text: string | QueryConfig, values: unknown[] | undefined, abort: AbortSource | undefined): Promise<QueryResult<R>> {
    return this.#checkout(abort).then((session) => {
      let result: Promise<QueryResult<R>>;
      try {
        result = session.query<R>(text, values, abort);
      } catch (thrown) {
        session.release(); // pg threw instead of rejecting: the connection still goes back
        throw thrown;
      }
      const release = (): void => session.release();
      result.then(release, release);
      return result;
    });
  }

  /** @internal */
  async runTransaction<T>(fn: (tx: PgQueryable) => Promise<T>, abort: AbortSource | undefined): Promise<T> {
    const session = await this.#checkout(abort);
    try {
      await session.query("BEGIN", undefined, abort);
      const tx: PgQueryable = { query: (text, values, opts) => session.query(text, values, opts?.signal ? fromSignal(opts.signal) : abort) };
      const result = await fn(tx);
      await session.query("COMMIT", undefined, abort);
      return result;
    } catch (thrown) {
      await session.rollback();
      throw thrown;
    } finally {
      session.release();
    }
  }

  /**
   * A connection from the pool, timed for quiesce_pool_wait_seconds. When the pool is full, an
   * abort gives up the wait; otherwise a connection comes at once (or as fast as a new one opens)
   * and the query itself follows the abort.
   */
  #checkout(abort: AbortSource | undefined): Promise<Session> {
    const pool = this.pool;
    if (abort) {
      // Aborted already: no connection is taken (the listener runs at once, then is removed).
      let early: Error | null = null;
      abort.onAbort((reason) => (early = reason))();
      if (early) return Promise.reject(early as Error);
    }
    const started = performance.now();
    const mayWait = pool.idleCount === 0 && pool.totalCount >= this.#max;
    const connecting = abort && mayWait ? connectUnlessAborted(pool, abort) : pool.connect();
    return connecting.then((client) => {
      this.#observeWait((performance.now() - started) / 1000);
      return new Session(client, this.#options.cancelTimeoutMs, this.#logger);
    });
  }
}

/** The handle a job gets through `ctx.resources`: the same pool, stopped with the job unless told otherwise. */
class JobPg implements PgHandle {
  readonly #resource: PgResource;
  readonly #job: AbortSource;

  constructor(resource: PgResource, job: AbortSource) {
    this.#resource = resource;
    this.#job = job;
  }

  get pool(): Pool {
    return this.#resource.pool;
  }

  query<R extends QueryResultRow = QueryResultRow>(text: string | QueryConfig, values?: unknown[], options?: PgQueryOptions): Promise<QueryResult<R>> {
    return this.#resource.run<R>(text, values, options?.signal ? fromSignal(options.signal) : this.#job);
  }

  transaction<T>(fn: (tx: PgQueryable) => Promise<T>, options?: PgQueryOptions): Promise<T> {
    return this.#resource.runTransaction(fn, options?.signal ? fromSignal(options.signal) : this.#job);
  }
}

/**
 * pg-pool cannot withdraw a waiting `connect()`: on abort, reject now and hand the client back
 * whenever the pool gets round to giving it. Already aborted: no connection is asked for.
 */
function connectUnlessAborted(pool: Pool, abort: AbortSource): Promise<PoolClient> {
  return new Promise<PoolClient>((resolve, reject) => {
    let abandoned = false;
    const unsubscribe = abort.onAbort((reason) => {
      abandoned = true;
      reject(reason);
    });
    if (abandoned) return;
    pool.connect().then(
      (client) => {
        unsubscribe();
        if (abandoned) client.release();
        else resolve(client);
      },
      (error: unknown) => {
        unsubscribe();
        if (!abandoned) reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
