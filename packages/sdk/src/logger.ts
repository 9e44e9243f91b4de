/** The call shape of pino and most structured loggers: `(fields, message)` or `(message)`. */
export interface Logger {
  debug(fields: object | string, message?: string): void;
  info(fields: object | string, message?: string): void;
  warn(fields: object | string, message?: string): void;
  error(fields: object | string, message?: string): void;
  child(bindings: object): Logger;
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

const noop = (): void => {};
export const noopLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop, child: () => noopLogger };

/**
 * One JSON object a line on stderr: the default when the runtime owns the process (run()).
 * Embedded workers get {@link noopLogger} unless they pass their own.
 */
export function createJsonLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(line),
  bindings: object = {},
): Logger {
  const min = levelRank[level];
  const at =
    (name: Exclude<LogLevel, "silent">) =>
    (fields: object | string, message?: string): void => {
      if (levelRank[name] < min) return;
      const record =
        typeof fields === "string" ? { msg: fields } : { ...fields, ...(message === undefined ? {} : { msg: message }) };
      write(`${JSON.stringify({ level: name, time: new Date().toISOString(), ...bindings, ...record }, errorReplacer)}\n`);
    };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (more) => createJsonLogger(level, write, { ...bindings, ...more }),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }) };
  }
  return value;
}
