import { execFile, execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { ManagedProcess } from "./managed-process.js";
import { freePort } from "./ports.js";
import { tcpExchange } from "./probe.js";
import { ServerBase, spawnReady } from "./server-base.js";
import { MissingServerError, baseEnv, makeServerDir, withPortRetry, type ServerHandle } from "./server-handle.js";

const run = promisify(execFile);

export interface PostgresOptions {
  /** Default: a free port (never 5432). */
  readonly port?: number;
  /** Default: $PG_BIN_DIR, else the newest /usr/lib/postgresql/N/bin. */
  readonly binDir?: string;
  /** More `-c name=value` server settings. */
  readonly settings?: Readonly<Record<string, string | number>>;
  readonly startTimeoutMs?: number;
}

/** Serializable address of a PostgreSQL server: superuser `postgres`, trust auth. */
export interface PostgresInfo {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  readonly url: string;
  /** The Unix socket directory (the server's temp dir). */
  readonly socketDir: string;
}

export interface PostgresServer extends PostgresInfo, ServerHandle {
  info(): PostgresInfo;
}

interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

function findBinDir(explicit: string | undefined): string {
  const ok = (dir: string): boolean => existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres"));
  if (explicit !== undefined) {
    if (ok(explicit)) return explicit;
    throw new MissingServerError(`PostgreSQL server (initdb, postgres in ${explicit})`, "postgresql-15");
  }
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (ok(join(root, v, "bin"))) return join(root, v, "bin");
  throw new MissingServerError("PostgreSQL server (/usr/lib/postgresql/N/bin/initdb)", "postgresql-15");
}

/**
 * PostgreSQL refuses to run as root: as root, run it as the `postgres` OS user (created by the
 * postgresql-common package; created here if missing), else as ourselves.
 */
function runAs(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const find = (): RunAs | undefined => {
    const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("postgres:"));
    const [, , uid, gid] = line?.split(":") ?? [];
    return uid && gid ? { uid: Number(uid), gid: Number(gid) } : undefined;
  };
  const found = find();
  if (found) return found;
  execFileSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"]);
  const created = find();
  if (!created) throw new Error("postgres: could not create the postgres OS user");
  return created;
}

/** The protocol 3.0 StartupMessage for user postgres, database postgres. */
function startupMessage(): Buffer {
  const params = Buffer.from("user\0postgres\0database\0postgres\0\0");
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + params.length, 0);
  head.writeInt32BE(196_608, 4); // protocol 3.0
  return Buffer.concat([head, params]);
}
const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4]); // 'X', length 4

class PostgresInstance extends ServerBase implements PostgresServer {
  readonly host = "127.0.0.1";
  readonly port: number;
  readonly user = "postgres";
  readonly database = "postgres";
  readonly url: string;
  readonly socketDir: string;
  readonly #bin: string;
  readonly #as: RunAs | undefined;
  readonly #opts: PostgresOptions;

  constructor(bin: string, port: number, opts: PostgresOptions) {
    super(makeServerDir("postgres"));
    this.#bin = bin;
    this.port = port;
    this.url = `postgres://postgres@${this.host}:${port}/postgres`;
    this.socketDir = this.dir;
    this.#opts = opts;
    this.#as = runAs();
    if (this.#as) chownSync(this.dir, this.#as.uid, this.#as.gid);
    chmodSync(this.dir, 0o700);
  }

  async start(): Promise<this> {
    // --no-sync: the data is throwaway, skip every fsync (initdb ~0.7 s instead of several).
    const initdbArgs = ["-D", join(this.dir, "data"), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"];
    try {
      await run(join(this.#bin, "initdb"), initdbArgs, { cwd: this.dir, env: baseEnv(), ...(this.#as ?? {}) });
    } catch (err) {
      await this.stop();
      const output = err instanceof Error && "stderr" in err ? String(err.stderr) : "";
      throw new Error(`postgres: initdb failed: ${output || String(err)}`, { cause: err });
    }
    return this.boot();
  }

  info(): PostgresInfo {
    return { host: this.host, port: this.port, user: this.user, database: this.database, url: this.url, socketDir: this.socketDir };
  }

  /** SIGINT is PostgreSQL's fast shutdown (SIGTERM, "smart", would wait for every client to leave). */
  protected override get stopSignal(): NodeJS.Signals {
    return "SIGINT";
  }

  protected launch(): Promise<ManagedProcess> {
    const logFile = join(this.dir, "postgres.log");
    const settings: Record<string, string | number> = {
      listen_addresses: "127.0.0.1",
      fsync: "off",
      synchronous_commit: "off",
      full_page_writes: "off",
      max_connections: 200,
      ...this.#opts.settings,
    };
    const args = ["-D", join(this.dir, "data"), "-p", String(this.port), "-k", this.dir];
    for (const [k, v] of Object.entries(settings)) args.push("-c", `${k}=${v}`);
    return spawnReady(
      {
        name: "postgres", command: join(this.#bin, "postgres"), args, env: baseEnv(), cwd: this.dir, logFile,
        cleanupDir: this.dir, ...(this.#as ?? {}),
      },
      {
        logFiles: [logFile],
        timeoutMs: this.#opts.startTimeoutMs ?? 30_000,
        intervalMs: 20,
        // 'R' = AuthenticationOk ('E' while "the database system is starting up"), and the Unix
        // socket in our dir proves the server on that port is ours.
        probe: async () =>
          existsSync(join(this.dir, `.s.PGSQL.${this.port}`)) &&
          (await tcpExchange(this.port, { send: startupMessage(), farewell: TERMINATE }))?.[0] === 0x52,
      },
    );
  }
}

/** Start a private PostgreSQL on 127.0.0.1 in a temp dir (initdb ~0.7 s, start ~0.1 s). */
export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresServer> {
  const bin = findBinDir(opts.binDir ?? process.env["PG_BIN_DIR"]);
  return withPortRetry(opts.port !== undefined, async () => new PostgresInstance(bin, opts.port ?? (await freePort()), opts).start());
}
