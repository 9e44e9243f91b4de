import { existsSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { ManagedProcess } from "./managed-process.js";

export interface ExchangeOptions {
  /** Bytes to send once connected (nothing: a bare connect is the probe). */
  readonly send?: Buffer | string;
  /** Bytes to send after the first answer, before closing (e.g. a protocol's Terminate). */
  readonly farewell?: Buffer | string;
  readonly timeoutMs?: number;
}

/**
 * Connect to 127.0.0.1:port, send `send`, resolve with the first chunk of the answer (an empty
 * buffer for a bare connect), or `undefined` on refusal, reset or timeout.
 */
export function tcpExchange(port: number, opts: ExchangeOptions = {}): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    const done = (value: Buffer | undefined): void => {
      socket.removeAllListeners("data");
      if (value !== undefined && opts.farewell !== undefined) socket.end(opts.farewell);
      else socket.end();
      socket.destroySoon();
      resolve(value);
    };
    socket.setTimeout(opts.timeoutMs ?? 1_000, () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.on("error", () => resolve(undefined));
    socket.once("connect", () => {
      if (opts.send === undefined) done(Buffer.alloc(0));
      else socket.write(opts.send);
    });
    socket.once("data", (chunk: Buffer) => done(chunk));
    socket.once("end", () => resolve(undefined));
  });
}

/** True if something accepts connections on 127.0.0.1:port. */
export async function isListening(port: number): Promise<boolean> {
  return (await tcpExchange(port, { timeoutMs: 500 })) !== undefined;
}

/** The last `lines` lines of each existing file, for error messages. */
export function logTail(files: readonly string[], lines = 25): string {
  return files
    .filter((f) => existsSync(f))
    .map((f) => `--- ${f}\n${readFileSync(f, "utf8").trimEnd().split("\n").slice(-lines).join("\n")}`)
    .join("\n");
}

/** A server died during start-up because a port was taken: the caller retries on other ports. */
export class PortInUseError extends Error {
  override readonly name = "PortInUseError";
}

const PORT_IN_USE = /address already in use|eaddrinuse|seems to be in use by another/i;

export interface WaitReadyOptions {
  readonly process: ManagedProcess;
  /**
   * One readiness check; false means "not yet". It must recognise this very process (its pid,
   * its node name, a file only it writes): a port race lost to another server of ours would
   * otherwise pass for ready while our process is dying on "address in use".
   */
  readonly probe: (proc: ManagedProcess) => Promise<boolean>;
  /** Logs to quote when start-up fails. */
  readonly logFiles: readonly string[];
  readonly timeoutMs: number;
  readonly intervalMs?: number;
}

/**
 * Probe until ready. Fails fast, with the log tail, when the process exits first (PortInUseError
 * when the log says a port was taken), and after `timeoutMs`.
 */
export async function waitReady(opts: WaitReadyOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  const exited = opts.process.exited.then(() => "exited" as const);
  for (;;) {
    const result = opts.process.running ? await Promise.race([opts.probe(opts.process), exited]) : "exited";
    if (result === "exited") {
      const tail = logTail(opts.logFiles);
      const Failure = PORT_IN_USE.test(tail) ? PortInUseError : Error;
      throw new Failure(`${opts.process.name} exited during start-up\n${tail}`);
    }
    if (result) return;
    if (Date.now() > deadline) {
      throw new Error(`${opts.process.name} not ready after ${opts.timeoutMs} ms\n${logTail(opts.logFiles)}`);
    }
    await Promise.race([sleep(opts.intervalMs ?? 50), exited]);
  }
}
