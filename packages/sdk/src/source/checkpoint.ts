/**
 * Checkpoints: what a long job stores with itself so that an interrupted run (a release at the
 * drain deadline, a lost lease, a SIGKILL, a vanished node) resumes where it was, not from zero.
 *
 * The runtime hands a backend one opaque string per write (the handler's value plus what the
 * runtime needs to count the work a resume saved); the backend only stores and returns it.
 * Two places can keep it, and the runtime uses every one it is given:
 * - the delivery itself ({@link CheckpointCapable}): memory and BullMQ keep it with the job;
 * - a {@link CheckpointStore} next to the queue, keyed by the message's stable id, for backends
 *   whose messages cannot change in place (or to survive a crash where they can only carry it on
 *   a re-publish).
 */

/** The optional part of a delivery that keeps checkpoints with the message. */
export interface CheckpointCapable {
  /** What the latest earlier delivery of this message stored; undefined on a first run. */
  readonly lastCheckpoint?: string | undefined;
  /** Largest checkpoint this backend stores, in bytes of UTF-8. @defaultValue the runtime's 1 MiB */
  readonly checkpointMaxBytes?: number;
  /**
   * Store `data` durably with this message, replacing the previous one; resolves once stored.
   * Rejects with LeaseLostError when this delivery no longer holds the message. The backend
   * removes it when the message is acked or failed.
   */
  checkpoint?(data: string): Promise<void>;
}

/**
 * A checkpoint store: three calls, one string per key. Keys are `<queue>:<message id>`, so one
 * store can serve several queues. Implementations: "@quiesce/adapters/checkpoint-redis" and
 * "@quiesce/adapters/checkpoint-pg"; any key-value store will do.
 */
export interface CheckpointStore {
  /** The stored string, or undefined when there is none. */
  load(key: string): Promise<string | undefined>;
  /** Store (replace) durably; resolve only once stored. */
  save(key: string, data: string): Promise<void>;
  /** Remove; a missing key is not an error. */
  delete(key: string): Promise<void>;
}
