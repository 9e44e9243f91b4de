/** Test helpers: read samples back out of a Prometheus text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parse the sample lines of a Prometheus text exposition (labels here never contain `,` or `"`). */
export function samples(body: string): Sample[] {
  return body
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`unparsable sample line: ${line}`);
      const labels: Record<string, string> = {};
      for (const pair of match[2] ? match[2].split(",") : []) {
        const [key, value] = pair.split("=");
        labels[key ?? ""] = JSON.parse(value ?? '""') as string;
      }
      return { name: match[1] ?? "", labels, value: Number(match[3]) };
    });
}

export function find(all: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

export function value(all: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = find(all, name, labels);
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value;
}
