import { accessSync, constants, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { PortInUseError } from "./probe.js";

/** What every started server gives a test, whatever the server. */
export interface ServerHandle {
  /** Its temp dir (data, logs, sockets); removed by stop(). */
  readonly dir: string;
  /** PID of the main process (changes on restart). */
  readonly pid: number;
  /** Stop it (graceful, then SIGKILL), wait until no process of it is left, remove its dir. Idempotent. */
  stop(): Promise<void>;
  /** Stop and start again on the same port (and data dir where the server persists anything). */
  restart(): Promise<void>;
  /** SIGSTOP: the server stays connected but answers nothing, like a hung or overloaded server. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A server binary is not installed: one line naming the Debian package. */
export class MissingServerError extends Error {
  override readonly name = "MissingServerError";
  constructor(what: string, debianPackage: string) {
    super(
      `${what} is not installed: apt-get install -y --no-install-recommends ${debianPackage} ` +
        `(or run scripts/install-test-servers.sh, which installs every test server)`,
    );
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The path of an executable: `explicit` if given (it must exist), else the first hit on PATH or
 * in `extraDirs`. Throws MissingServerError naming `debianPackage`.
 */
export function locateBinary(name: string, debianPackage: string, explicit?: string, extraDirs: readonly string[] = []): string {
  if (explicit !== undefined) {
    if (isExecutable(explicit)) return explicit;
    throw new MissingServerError(explicit, debianPackage);
  }
  const dirs = [...(process.env["PATH"] ?? "").split(delimiter).filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  throw new MissingServerError(name, debianPackage);
}

/** A fresh temp dir for one server instance. */
export function makeServerDir(kind: string): string {
  return mkdtempSync(join(tmpdir(), `quiesce-${kind}-`));
}

/**
 * Run `attempt` on fresh ports until it does not fail with PortInUseError (another process took
 * a port between our check and the server's bind). A port chosen by the caller is never replaced.
 */
export async function withPortRetry<T>(fixedPort: boolean, attempt: () => Promise<T>, tries = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof PortInUseError) || fixedPort || i >= tries) throw err;
    }
  }
}

/** The environment every server child gets: PATH and a UTF-8 C locale, nothing else inherited. */
export function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8", LC_ALL: "C.UTF-8", ...extra };
}
