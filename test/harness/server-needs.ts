import { readFile } from "node:fs/promises";
import { relative } from "node:path";

/** Every shared server, in start order: the slowest (RabbitMQ, ~6.5 s) first. */
export const SERVER_NAMES = ["rabbitmq", "postgres", "fauxqs", "redis"] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

function isServerName(name: string): name is ServerName {
  return (SERVER_NAMES as readonly string[]).includes(name);
}

const HEADER_LINES = 30;
const COMMENT_OR_BLANK = /^\s*(?:$|\/\/|\/\*|\*)/;
// The tag opens a comment line: "// @servers ...", " * @servers ..." or "/* @servers ...".
const SERVERS_TAG = /^\s*(?:\/\/+|\/?\*+)\s*@servers\b(.*)$/;

/**
 * The servers a test file declares in its header comment, e.g. a first line
 * `// @servers redis rabbitmq` (`// @servers none` for a file that needs none). Only the leading
 * comment block is read (up to 30 lines).
 * Unknown names throw, naming the file: a typo must not silently start nothing.
 */
export function parseServersHeader(source: string, file = "<source>"): ServerName[] {
  const found = new Set<ServerName>();
  for (const line of source.split("\n").slice(0, HEADER_LINES)) {
    if (!COMMENT_OR_BLANK.test(line)) break;
    const tag = SERVERS_TAG.exec(line);
    if (!tag) continue;
    for (const name of (tag[1] ?? "").replace(/\*\/.*$/, "").split(/[\s,]+/).filter(Boolean)) {
      if (name === "none") continue; // `// @servers none`: says so explicitly
      if (!isServerName(name)) {
        throw new Error(`${file}: unknown server "${name}" in its @servers header (known: ${SERVER_NAMES.join(", ")})`);
      }
      found.add(name);
    }
  }
  return SERVER_NAMES.filter((n) => found.has(n));
}

/** The union of the servers the files declare, in start order. */
export async function serversNeededBy(files: readonly string[]): Promise<ServerName[]> {
  const needed = new Set<ServerName>();
  await Promise.all(
    files.map(async (file) => {
      for (const name of parseServersHeader(await readFile(file, "utf8"), relative(process.cwd(), file))) needed.add(name);
    }),
  );
  return SERVER_NAMES.filter((n) => needed.has(n));
}
