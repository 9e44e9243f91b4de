/**
 * SIGTERM/SIGINT handling: installed once per worker, removable, and never exits the process
 * itself. The first signal starts the graceful drain; a second escalates to the forceful path
 * (release now); a third means the operator wants out now.
 */
export type SignalAction = "drain" | "force" | "exit";

export function installSignalHandlers(
  onSignal: (signal: NodeJS.Signals, action: SignalAction) => void,
  signals: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT"],
): () => void {
  let count = 0;
  const listener = (signal: NodeJS.Signals): void => {
    count++;
    onSignal(signal, count === 1 ? "drain" : count === 2 ? "force" : "exit");
  };
  for (const signal of signals) process.on(signal, listener);
  return () => {
    for (const signal of signals) process.off(signal, listener);
  };
}
