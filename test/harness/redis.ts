import { join } from "node:path";
import type { ManagedProcess } from "./managed-process.js";
import { freePort } from "./ports.js";
import { tcpExchange } from "./probe.js";
import { ServerBase, spawnReady } from "./server-base.js";
import { baseEnv, locateBinary, makeServerDir, withPortRetry, type ServerHandle } from "./server-handle.js";

export interface RedisOptions {
  /** Default: a free port (never 6379). */
  readonly port?: number;
  /** More `redis-server` arguments, e.g. `["--maxmemory", "10mb"]`. */
  readonly extraArgs?: readonly string[];
  /** Default: $REDIS_SERVER_BIN, else `redis-server` on PATH. */
  readonly binary?: string;
  readonly startTimeoutMs?: number;
}

/** Serializable address of a Redis server (what `provide`/`inject` carry). */
export interface RedisInfo {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
}

export interface RedisServer extends RedisInfo, ServerHandle {
  info(): RedisInfo;
}

class RedisInstance extends ServerBase implements RedisServer {
  readonly host = "127.0.0.1";
  readonly port: number;
  readonly url: string;
  readonly #binary: string;
  readonly #opts: RedisOptions;

  constructor(binary: string, port: number, opts: RedisOptions) {
    super(makeServerDir("redis"));
    this.#binary = binary;
    this.port = port;
    this.url = `redis://${this.host}:${port}`;
    this.#opts = opts;
  }

  start(): Promise<this> {
    return this.boot();
  }

  info(): RedisInfo {
    return { host: this.host, port: this.port, url: this.url };
  }

  protected launch(): Promise<ManagedProcess> {
    const logFile = join(this.dir, "redis.log");
    // No persistence (save "" + appendonly no): restart() comes back empty, like a failover to an
    // empty replica. --daemonize no keeps it our child.
    const args = [
      "--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
      "--dir", this.dir, "--daemonize", "no", "--maxmemory-policy", "noeviction",
      ...(this.#opts.extraArgs ?? []),
    ];
    return spawnReady(
      { name: "redis-server", command: this.#binary, args, env: baseEnv(), cwd: this.dir, logFile, cleanupDir: this.dir },
      {
        logFiles: [logFile],
        timeoutMs: this.#opts.startTimeoutMs ?? 15_000,
        intervalMs: 10,
        // INFO names the answering server's pid: ours, not another test's on a port we lost.
        probe: async (proc) => (await tcpExchange(this.port, { send: "INFO server\r\n" }))?.toString().includes(`\r\nprocess_id:${proc.pid}\r\n`) === true,
      },
    );
  }
}

/** Start a private Redis on 127.0.0.1 in a temp dir (ready in ~20 ms). */
export async function startRedis(opts: RedisOptions = {}): Promise<RedisServer> {
  const binary = locateBinary("redis-server", "redis-server", opts.binary ?? process.env["REDIS_SERVER_BIN"]);
  return withPortRetry(opts.port !== undefined, async () => new RedisInstance(binary, opts.port ?? (await freePort()), opts).start());
}
