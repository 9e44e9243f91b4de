import { parseArgs } from "node:util";

export type Command = "drain" | "status" | "help";

export interface CliArgs {
  readonly command: Command;
  readonly host: string;
  readonly port: number;
  /** Give up after this long; undefined waits as long as the drain takes (the kubelet bounds a preStop hook anyway). */
  readonly timeoutMs: number | undefined;
  readonly token: string | undefined;
}

/** A bad command line: main prints the message and the usage, exit 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export const usage = `usage: quiesce <command> [options]

commands:
  drain    POST /drain to the worker and hold until it has drained (for an exec preStop hook);
           exit 0 when everything finished, 143 when work was handed back, 1 when the worker
           could not be reached or the timeout passed
  status   print the worker's /status JSON; exit 0, or 1 when it cannot be read

options:
  --port N         admin port (default: QUIESCE_HTTP_PORT or 9464)
  --host H         admin host (default: 127.0.0.1)
  --timeout S      give up after S seconds (default: drain waits as long as the drain takes; status 5)
  --token T        bearer token for /drain (default: QUIESCE_DRAIN_TOKEN)
  -h, --help       this text

exit 2: a bad command line (unknown command or option, bad value); the reason and this text go
to stderr`;

/** argv without node and the script path. */
export function parseCliArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        timeout: { type: "string" },
        token: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (thrown) {
    throw new UsageError((thrown as Error).message);
  }
  const { values, positionals } = parsed;
  const [name, ...extra] = positionals;
  if (values.help || name === "help") return { command: "help", host: "127.0.0.1", port: 9464, timeoutMs: undefined, token: undefined };
  if (name === undefined) throw new UsageError("missing command");
  if (name !== "drain" && name !== "status") throw new UsageError(`unknown command "${name}"`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);

  const portText = values.port ?? (env.QUIESCE_HTTP_PORT || undefined);
  const port = portText === undefined ? 9464 : Number(portText);
  if (!/^\d+$/.test(portText ?? "9464") || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--port (or QUIESCE_HTTP_PORT) must be a port number from 1 to 65535, got "${portText}"`);
  }
  let timeoutMs: number | undefined = name === "status" ? 5000 : undefined;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (values.timeout.trim() === "" || !Number.isFinite(seconds) || seconds <= 0) {
      throw new UsageError(`--timeout must be a positive number of seconds, got "${values.timeout}"`);
    }
    timeoutMs = Math.round(seconds * 1000);
  }
  const token = values.token ?? (env.QUIESCE_DRAIN_TOKEN || undefined);
  return { command: name, host: values.host ?? "127.0.0.1", port, timeoutMs, token };
}
