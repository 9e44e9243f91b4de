import { existsSync } from "node:fs";
import { expect } from "vitest";
import { isListening } from "../harness/probe.js";
import { descendants, groupMembers, isAlive, processesMentioning } from "../harness/proc.js";

export interface Footprint {
  /** Processes that must be gone (also checked as process groups: each server leads its own). */
  readonly pids: readonly number[];
  readonly dir: string;
  readonly ports: readonly number[];
}

/** After stop(): no process (per /proc), no group member, nothing mentioning the dir, no dir, ports closed. */
export async function expectNothingLeft(f: Footprint): Promise<void> {
  for (const pid of f.pids) {
    expect(isAlive(pid), `pid ${pid} still alive`).toBe(false);
    expect(groupMembers(pid), `members of process group ${pid}`).toEqual([]);
  }
  expect(processesMentioning(f.dir), `processes mentioning ${f.dir}`).toEqual([]);
  expect(existsSync(f.dir), `${f.dir} still exists`).toBe(false);
  for (const port of f.ports) expect(await isListening(port), `port ${port} still open`).toBe(false);
}

/** Take it before stop(): the server's process, its descendants (now), its dir and port. */
export function footprintOf(server: { readonly pid: number; readonly dir: string; readonly port: number }): Footprint {
  return { pids: [server.pid, ...descendants(server.pid).map((p) => p.pid)], dir: server.dir, ports: [server.port] };
}
