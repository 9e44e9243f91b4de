import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";

/**
 * A network namespace joined to this host by a veth pair: a second host with its own
 * non-loopback address, for tests of what a remote caller sees. The addresses are private to
 * the pair and live only for the test. Needs root (CI and developers' machines here are root).
 */
export interface TestHost {
  /** Address of this machine as the namespace sees it. */
  readonly hostAddress: string;
  /** The namespace's own address (the caller's source address). */
  readonly peerAddress: string;
  /** Run a command inside the namespace. */
  exec(command: string, args: readonly string[], timeoutMs?: number): string;
  remove(): void;
}

export function createTestHost(): TestHost {
  const id = randomBytes(3).toString("hex");
  const ns = `qtest-${id}`;
  const hostIf = `qh${id}`;
  const peerIf = `qp${id}`;
  // A /30 from 10.213.0.0/16 picked per namespace, so parallel tests don't collide.
  const block = (parseInt(id, 16) % 16000) * 4;
  const hostAddress = `10.213.${Math.floor(block / 256)}.${(block % 256) + 1}`;
  const peerAddress = `10.213.${Math.floor(block / 256)}.${(block % 256) + 2}`;
  const ip = (...args: string[]): void => void execFileSync("ip", args, { stdio: "pipe" });
  try {
    ip("netns", "add", ns);
    ip("link", "add", hostIf, "type", "veth", "peer", "name", peerIf);
    ip("link", "set", peerIf, "netns", ns);
    ip("addr", "add", `${hostAddress}/30`, "dev", hostIf);
    ip("link", "set", hostIf, "up");
    ip("netns", "exec", ns, "ip", "addr", "add", `${peerAddress}/30`, "dev", peerIf);
    ip("netns", "exec", ns, "ip", "link", "set", peerIf, "up");
    ip("netns", "exec", ns, "ip", "link", "set", "lo", "up");
  } catch (error) {
    remove();
    throw new Error(`could not create a test network namespace (needs root and iproute2): ${(error as Error).message}`);
  }
  function remove(): void {
    for (const args of [["link", "del", hostIf], ["netns", "del", ns]]) {
      try {
        ip(...args);
      } catch {
        // already gone
      }
    }
  }
  return {
    hostAddress,
    peerAddress,
    exec: (command, args, timeoutMs = 10_000) =>
      execFileSync("ip", ["netns", "exec", ns, command, ...args], { encoding: "utf8", timeout: timeoutMs }),
    remove,
  };
}
