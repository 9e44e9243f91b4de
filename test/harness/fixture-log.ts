// What fixture workers leave behind for process-level tests: a side-effect file (one id a line,
// appended by each handler that did its work) and JSON lines on stdout.
import { readFileSync } from "node:fs";

/** Id → how many lines of `file` carry it (0 lines: an empty map, also when the file is not there yet). */
export function countLines(file: string): Map<string, number> {
  const counts = new Map<string, number>();
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return counts;
  }
  for (const id of text.split("\n").filter(Boolean)) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** The JSON-object lines of a process's output, parsed. */
export function jsonLines<T = Record<string, unknown>>(output: string): T[] {
  return output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as T);
}
