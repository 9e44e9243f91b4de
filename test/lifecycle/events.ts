/** Parse the JSON-lines event log a fixture worker prints on stdout. */
export interface FixtureEvent {
  readonly event: string;
  readonly [key: string]: unknown;
}

export function parseEvents(stdout: string): FixtureEvent[] {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as FixtureEvent);
}

export const named = (events: readonly FixtureEvent[], name: string): FixtureEvent[] => events.filter((e) => e.event === name);
