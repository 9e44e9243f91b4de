import { connect, type Socket } from "node:net";

/** Where a client's backend runs and the key PostgreSQL gave it for cancelling (BackendKeyData). */
export interface CancelTarget {
  /** A host name or address, or a Unix socket directory (starts with "/"). */
  readonly host: string;
  readonly port: number;
  readonly processID: number;
  readonly secretKey: number;
}

/** CancelRequest: length 16, the code 80877102 (1234 << 16 | 5678), the backend's pid and key. */
function cancelRequest(processID: number, secretKey: number): Buffer {
  const message = Buffer.alloc(16);
  message.writeInt32BE(16, 0);
  message.writeInt32BE(80_877_102, 4);
  message.writeInt32BE(processID, 8);
  message.writeInt32BE(secretKey, 12);
  return message;
}

/**
 * Ask the server to cancel whatever the target backend is running, and resolve once the server
 * has handled the request (it closes the socket after signalling the backend, and answers nothing).
 *
 * A cancel request travels on a fresh short-lived connection that takes no connection slot
 * (PostgreSQL reads it before a session starts), so it works when the pool, or the server's
 * `max_connections`, is full; `pg_cancel_backend(pid)` would need a whole session for that.
 * pg's own `Client#cancel` sends the same message but never says when the server is done with it;
 * the caller needs that moment: until then the signal may still land on the next query run on the
 * same connection. It is sent in plain text even for TLS sessions, as libpq's `PQcancel` does: the
 * server accepts it either way, and it carries no credentials besides the per-session key.
 */
export function sendCancelRequest(target: CancelTarget, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket: Socket = target.host.startsWith("/")
      ? connect({ path: `${target.host}/.s.PGSQL.${target.port}` })
      : connect({ host: target.host, port: target.port });
    let failure: Error | null = null;
    const timer = setTimeout(() => {
      failure = new Error(`PostgreSQL cancel request for backend ${target.processID} got no answer within ${timeoutMs} ms`);
      socket.destroy();
    }, timeoutMs);
    timer.unref();
    socket.once("connect", () => socket.end(cancelRequest(target.processID, target.secretKey)));
    socket.once("error", (error) => {
      failure ??= new Error(`PostgreSQL cancel request for backend ${target.processID} failed: ${error.message}`, { cause: error });
    });
    socket.once("close", () => {
      clearTimeout(timer);
      if (failure) reject(failure);
      else resolve();
    });
  });
}
