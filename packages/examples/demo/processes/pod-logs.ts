/**
 * What the pod processes write on stderr. Warnings are counted, not echoed (every pod gives the
 * same advice), and summed up at the end; anything else (an error, a crash's stack) is shown at once.
 */
export class PodLogs {
  readonly #warnings = new Map<string, number>();

  /** The line to show now, or undefined when it was only counted. */
  add(kind: string, pod: string, line: string): string | undefined {
    let entry: { level?: unknown; msg?: unknown } | undefined;
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      entry = undefined;
    }
    if (entry?.level === "warn" && typeof entry.msg === "string") {
      const key = `${kind}\u0000${entry.msg}`;
      this.#warnings.set(key, (this.#warnings.get(key) ?? 0) + 1);
      return undefined;
    }
    return `[${kind} ${pod}] ${line}`;
  }

  /** One line per distinct warning: which pods, how often, what it said. */
  summary(): string[] {
    return [...this.#warnings].map(([key, count]) => {
      const [kind, msg] = key.split("\u0000") as [string, string];
      return `${kind} pods warned ${count}×: ${msg}`;
    });
  }
}
