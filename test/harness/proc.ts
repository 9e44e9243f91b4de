import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** One line of /proc/PID/stat, the fields the harness needs. */
export interface ProcInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
  /** R, S, D, T (stopped), Z (zombie), ... */
  readonly state: string;
  readonly cmdline: string;
}

function readStat(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may itself contain spaces or parentheses.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
    return { pid, state: rest[0] ?? "?", ppid: Number(rest[1]), pgid: Number(rest[2]), cmdline };
  } catch {
    return undefined; // gone between readdir and read, or not ours to read
  }
}

/** Every process visible in /proc (zombies included). */
export function listProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const info = readStat(Number(name));
    if (info) out.push(info);
  }
  return out;
}

/**
 * True while the process exists and is not a zombie. `kill(pid, 0)` is not enough: it succeeds
 * for zombies, and an orphan's zombie is reaped late (or never) by this machine's PID 1.
 */
export function isAlive(pid: number): boolean {
  const info = readStat(pid);
  return info !== undefined && info.state !== "Z";
}

/** Live (non-zombie) members of a process group. */
export function groupMembers(pgid: number): ProcInfo[] {
  return listProcesses().filter((p) => p.pgid === pgid && p.state !== "Z");
}

/**
 * Live descendants of `pid` (children, grandchildren, ...), parents before children. Needed
 * beside process groups: PostgreSQL backends call setsid(), so they leave the postmaster's group.
 */
export function descendants(pid: number): ProcInfo[] {
  const all = listProcesses().filter((p) => p.state !== "Z");
  const out: ProcInfo[] = [];
  const queue = [pid];
  for (let parent = queue.shift(); parent !== undefined; parent = queue.shift()) {
    for (const child of all) {
      if (child.ppid === parent) {
        out.push(child);
        queue.push(child.pid);
      }
    }
  }
  return out;
}

/** Live processes whose command line contains `needle` (e.g. a server's temp dir). */
export function processesMentioning(needle: string): ProcInfo[] {
  return listProcesses().filter((p) => p.state !== "Z" && p.pid !== process.pid && p.cmdline.includes(needle));
}

export interface ListeningSocket {
  readonly pid: number;
  /** "127.0.0.1", "0.0.0.0", "::1", "::", ... */
  readonly address: string;
  readonly port: number;
}

function decodeAddress(hex: string): string {
  if (hex.length === 8) return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join(".");
  // IPv6: four little-endian 32-bit words
  const words = Array.from({ length: 4 }, (_, w) => hex.slice(w * 8, w * 8 + 8).match(/../g)?.reverse().join("") ?? "");
  const groups = words.join("").match(/.{4}/g)?.map((g) => parseInt(g, 16).toString(16)) ?? [];
  const text = groups.join(":");
  if (text === "0:0:0:0:0:0:0:0") return "::";
  if (text === "0:0:0:0:0:0:0:1") return "::1";
  return text;
}

/** TCP sockets in LISTEN state owned by the given processes (from /proc/PID/fd and /proc/net/tcp*). */
export function listeningSockets(pids: Iterable<number>): ListeningSocket[] {
  const owner = new Map<string, number>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m?.[1]) owner.set(m[1], pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  const found: ListeningSocket[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [local = "", state, inode = ""] = [cols[1], cols[3], cols[9]];
      const pid = owner.get(inode);
      if (state !== "0A" || pid === undefined) continue; // 0A = LISTEN
      const [addr = "", port = "0"] = local.split(":");
      found.push({ pid, address: decodeAddress(addr), port: parseInt(port, 16) });
    }
  }
  return found;
}
