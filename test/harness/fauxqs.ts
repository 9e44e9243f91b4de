import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ManagedProcess } from "./managed-process.js";
import { freePort } from "./ports.js";
import { isListening } from "./probe.js";
import { ServerBase, spawnReady } from "./server-base.js";
import { baseEnv, makeServerDir, withPortRetry, type ServerHandle } from "./server-handle.js";

const LAUNCHER = fileURLToPath(new URL("./fauxqs-server.mjs", import.meta.url));
const REGION = "us-east-1";

export interface FauxqsOptions {
  /** Default: a free port (never 4566). */
  readonly port?: number;
  readonly startTimeoutMs?: number;
}

/** Serializable address of the SQS emulator. */
export interface FauxqsInfo {
  readonly host: string;
  readonly port: number;
  /** `http://127.0.0.1:PORT`: give it to every SQSClient (see sqsClientConfig). */
  readonly endpoint: string;
  readonly region: string;
}

export interface FauxqsServer extends FauxqsInfo, ServerHandle {
  info(): FauxqsInfo;
}

/**
 * Settings for `new SQSClient(sqsClientConfig(info))` (assignable to `SQSClientConfig`).
 * fauxqs's queue URLs name `sqs.<region>.localhost`, which does not resolve here: the explicit
 * endpoint (and useQueueUrlAsEndpoint false) keep every call on the emulator. Credentials are
 * dummies: the emulator checks none, but the SDK insists on having some.
 */
export function sqsClientConfig(info: FauxqsInfo): {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  useQueueUrlAsEndpoint: false;
} {
  return {
    endpoint: info.endpoint,
    region: info.region,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    useQueueUrlAsEndpoint: false,
  };
}

class FauxqsInstance extends ServerBase implements FauxqsServer {
  readonly host = "127.0.0.1";
  readonly port: number;
  readonly endpoint: string;
  readonly region = REGION;
  readonly #opts: FauxqsOptions;

  constructor(port: number, opts: FauxqsOptions) {
    super(makeServerDir("fauxqs"));
    this.port = port;
    this.endpoint = `http://${this.host}:${port}`;
    this.#opts = opts;
  }

  start(): Promise<this> {
    return this.boot();
  }

  info(): FauxqsInfo {
    return { host: this.host, port: this.port, endpoint: this.endpoint, region: this.region };
  }

  protected launch(): Promise<ManagedProcess> {
    const logFile = join(this.dir, "fauxqs.log");
    return spawnReady(
      // In-memory state only: restart() comes back with no queues.
      { name: "fauxqs", command: process.execPath, args: [LAUNCHER, String(this.port)], env: baseEnv(), cwd: this.dir, logFile, cleanupDir: this.dir },
      // The launcher prints its line to our log once listening: the port is ours and the app built.
      {
        logFiles: [logFile],
        timeoutMs: this.#opts.startTimeoutMs ?? 30_000,
        intervalMs: 20,
        probe: async () => readFileSync(logFile, "utf8").includes(`fauxqs listening on 127.0.0.1:${this.port}\n`) && (await isListening(this.port)),
      },
    );
  }
}

/** Start the fauxqs 1.9 SQS emulator as a child process on 127.0.0.1. */
export async function startFauxqs(opts: FauxqsOptions = {}): Promise<FauxqsServer> {
  return withPortRetry(opts.port !== undefined, async () => new FauxqsInstance(opts.port ?? (await freePort()), opts).start());
}
