/**
 * Something the worker owns besides the source (a database pool, a client): closed after the
 * drain, once the last delivery settled, so handlers never see it closed under them.
 */
export interface Resource {
  readonly name: string;
  close(): Promise<void>;
}
