import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { ManagedProcess } from "./managed-process.js";
import { freePort, freePortRange } from "./ports.js";
import { listeningSockets } from "./proc.js";
import { tcpExchange } from "./probe.js";
import { ServerBase, spawnReady } from "./server-base.js";
import { MissingServerError, baseEnv, locateBinary, makeServerDir, withPortRetry, type ServerHandle } from "./server-handle.js";

const run = promisify(execFile);

/**
 * Debian's own scripts: /usr/sbin/rabbitmq-server is a wrapper that switches to the rabbitmq
 * user and logs to /var/log; this one runs the broker in the foreground as us.
 */
const SBIN = "/usr/lib/rabbitmq/bin";

export interface RabbitmqOptions {
  /** AMQP port. Default: a free port (never 5672). */
  readonly port?: number;
  /** More rabbitmq.conf lines, e.g. `{ consumer_timeout: 5000 }` (cluster_name is the harness's). */
  readonly config?: Readonly<Record<string, string | number>>;
  /** Default: $RABBITMQ_SBIN, else /usr/lib/rabbitmq/bin. */
  readonly sbin?: string;
  readonly startTimeoutMs?: number;
}

/** Serializable address of a RabbitMQ node, with what `rabbitmqctl` needs to reach it. */
export interface RabbitmqInfo {
  readonly host: string;
  readonly port: number;
  /** `amqp://guest:guest@127.0.0.1:PORT` (default vhost) */
  readonly url: string;
  readonly nodeName: string;
  /** Environment for the CLI tools (private HOME with the cookie, epmd port, CLI port range). */
  readonly ctlEnv: Readonly<Record<string, string>>;
  readonly sbin: string;
}

export interface RabbitmqServer extends RabbitmqInfo, ServerHandle {
  info(): RabbitmqInfo;
  /** PID of the node's private epmd. */
  readonly epmdPid: number;
  /** Broker-side fault: close every client connection (`rabbitmqctl close_all_connections`). */
  closeConnections(reason?: string): Promise<void>;
}

/**
 * Run a CLI command against the node, e.g. `rabbitmqctl(info, "add_vhost", name)`. Each call
 * boots an Erlang VM (~1.5 s). On the shared node, never do what disturbs other test files.
 */
export async function rabbitmqctl(info: RabbitmqInfo, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await run(join(info.sbin, "rabbitmqctl"), ["-n", info.nodeName, ...args], { env: { ...baseEnv(), ...info.ctlEnv }, timeout: 60_000 });
    return stdout;
  } catch (err) {
    const stderr = err instanceof Error && "stderr" in err ? String(err.stderr).trim() : String(err);
    throw new Error(`rabbitmqctl ${args.join(" ")} failed: ${stderr}`, { cause: err });
  }
}

interface Ports {
  readonly amqp: number;
  readonly dist: number;
  readonly epmd: number;
  readonly ctl: readonly number[];
}

class RabbitmqInstance extends ServerBase implements RabbitmqServer {
  readonly host = "127.0.0.1";
  readonly port: number;
  readonly url: string;
  readonly nodeName: string;
  readonly ctlEnv: Readonly<Record<string, string>>;
  readonly sbin: string;
  readonly #epmdBinary: string;
  readonly #ports: Ports;
  readonly #opts: RabbitmqOptions;
  /** Unique per instance: the readiness probe recognises our broker by it. */
  readonly #clusterName: string;
  #epmd: ManagedProcess | undefined;

  constructor(sbin: string, epmdBinary: string, ports: Ports, opts: RabbitmqOptions) {
    super(makeServerDir("rabbitmq"));
    this.sbin = sbin;
    this.#epmdBinary = epmdBinary;
    this.#ports = ports;
    this.#opts = opts;
    this.port = ports.amqp;
    this.url = `amqp://guest:guest@${this.host}:${ports.amqp}`;
    this.nodeName = `quiesce-${ports.amqp}@localhost`;
    this.#clusterName = `quiesce-${ports.amqp}-${randomBytes(6).toString("hex")}`;
    const home = join(this.dir, "home");
    // Distribution (node and CLI) on loopback only; the default is 0.0.0.0.
    const loopbackDist = "-kernel inet_dist_use_interface {127,0,0,1}";
    this.ctlEnv = {
      HOME: home,
      RABBITMQ_NODENAME: this.nodeName,
      RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
      RABBITMQ_NODE_PORT: String(ports.amqp),
      RABBITMQ_DIST_PORT: String(ports.dist),
      ERL_EPMD_PORT: String(ports.epmd),
      ERL_EPMD_ADDRESS: "127.0.0.1",
      // The CLI tools start their own Erlang node; by default its port range is derived from the
      // distribution port and can collide with it.
      RABBITMQ_CTL_DIST_PORT_MIN: String(ports.ctl[0]),
      RABBITMQ_CTL_DIST_PORT_MAX: String(ports.ctl[ports.ctl.length - 1]),
      RABBITMQ_CONF_ENV_FILE: join(this.dir, "rabbitmq-env.conf"),
      RABBITMQ_CONFIG_FILE: join(this.dir, "rabbitmq.conf"),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(this.dir, "advanced.config"),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, "enabled_plugins"),
      RABBITMQ_MNESIA_BASE: join(this.dir, "mnesia"),
      RABBITMQ_LOG_BASE: join(this.dir, "log"),
      RABBITMQ_PID_FILE: join(this.dir, "rabbitmq.pid"),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: loopbackDist,
      RABBITMQ_CTL_ERL_ARGS: loopbackDist,
    };
    this.#writeFiles(home);
  }

  #writeFiles(home: string): void {
    for (const d of [home, join(this.dir, "mnesia"), join(this.dir, "log")]) mkdirSync(d, { recursive: true });
    // The cookie must be private (mode 400) or distribution refuses it; our own HOME keeps
    // /root/.erlang.cookie and /var/lib/rabbitmq untouched.
    writeFileSync(join(home, ".erlang.cookie"), randomBytes(18).toString("hex"), { mode: 0o400 });
    const conf: Record<string, string | number> = {
      "listeners.tcp.1": `127.0.0.1:${this.#ports.amqp}`,
      loopback_users: "none",
      "log.console": "false",
      "log.file.level": "info",
      // Tests fill queues fast on small disks: never block publishers on the disk alarm.
      "disk_free_limit.absolute": "1MB",
      "vm_memory_high_watermark.relative": "0.8",
      ...this.#opts.config,
      cluster_name: this.#clusterName,
    };
    writeFileSync(join(this.dir, "rabbitmq.conf"), Object.entries(conf).map(([k, v]) => `${k} = ${v}\n`).join(""));
    writeFileSync(join(this.dir, "enabled_plugins"), "[].\n");
    writeFileSync(join(this.dir, "rabbitmq-env.conf"), ""); // ignore /etc/rabbitmq/rabbitmq-env.conf
    // For humans: `. DIR/env; rabbitmqctl -n NODE status`
    writeFileSync(join(this.dir, "env"), Object.entries(this.ctlEnv).map(([k, v]) => `export ${k}='${v}'\n`).join(""));
  }

  async start(): Promise<this> {
    // Our own epmd, owned by PID: a node-spawned `epmd -daemon` would outlive the broker and
    // listen on 0.0.0.0. It must be up before the broker looks for it.
    const logFile = join(this.dir, "log", "epmd.log");
    try {
      this.#epmd = await spawnReady(
        { name: "epmd", command: this.#epmdBinary, args: ["-port", String(this.#ports.epmd), "-address", "127.0.0.1"], env: baseEnv(), cwd: this.dir, logFile },
        // Ready when this epmd process itself holds the listening socket.
        { logFiles: [logFile], timeoutMs: 10_000, intervalMs: 10, probe: async (proc) => listeningSockets([proc.pid]).some((l) => l.port === this.#ports.epmd) },
      );
    } catch (err) {
      await this.stop();
      throw err;
    }
    return this.boot();
  }

  get epmdPid(): number {
    if (!this.#epmd) throw new Error("rabbitmq: epmd not started");
    return this.#epmd.pid;
  }

  info(): RabbitmqInfo {
    return { host: this.host, port: this.port, url: this.url, nodeName: this.nodeName, ctlEnv: this.ctlEnv, sbin: this.sbin };
  }

  async closeConnections(reason = "closed by test"): Promise<void> {
    await rabbitmqctl(this.info(), "close_all_connections", reason);
  }

  protected launch(): Promise<ManagedProcess> {
    const logDir = join(this.dir, "log");
    const logFile = join(logDir, "stdout.log");
    return spawnReady(
      {
        name: "rabbitmq-server", command: join(this.sbin, "rabbitmq-server"), args: [],
        env: baseEnv(this.ctlEnv), cwd: this.dir, logFile, cleanupDir: this.dir,
      },
      {
        logFiles: [logFile, join(logDir, `${this.nodeName}.log`)],
        timeoutMs: this.#opts.startTimeoutMs ?? 60_000,
        intervalMs: 100,
        // AMQP 0-9-1 protocol header; a ready broker answers with connection.start (frame type 1),
        // whose server properties carry our unique cluster_name.
        probe: async () => {
          const answer = await tcpExchange(this.port, { send: Buffer.from("AMQP\x00\x00\x09\x01", "latin1") });
          return answer?.[0] === 1 && answer.includes(this.#clusterName);
        },
      },
    );
  }

  protected override async closeCompanions(): Promise<void> {
    await this.#epmd?.stop();
  }
}

/**
 * Start a private RabbitMQ node (~6.5 s; start it first) on 127.0.0.1: its own epmd, cookie,
 * node name, ports and mnesia dir, nothing on 0.0.0.0.
 */
export async function startRabbitmq(opts: RabbitmqOptions = {}): Promise<RabbitmqServer> {
  const sbin = opts.sbin ?? process.env["RABBITMQ_SBIN"] ?? SBIN;
  if (!existsSync(join(sbin, "rabbitmq-server"))) throw new MissingServerError(`RabbitMQ (${join(sbin, "rabbitmq-server")})`, "rabbitmq-server");
  const epmd = locateBinary("epmd", "rabbitmq-server");
  return withPortRetry(opts.port !== undefined, async () => {
    const [amqp, dist, epmdPort, ctl] = [opts.port ?? (await freePort()), await freePort(), await freePort(), await freePortRange(10)];
    return new RabbitmqInstance(sbin, epmd, { amqp, dist, epmd: epmdPort, ctl }, opts).start();
  });
}
