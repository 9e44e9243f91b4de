import type { Logger } from "../../src/logger.js";

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  fields: object;
  message: string;
}

/** A logger that keeps what it was told, for "exactly one warning" assertions. */
export function recordingLogger(lines: LogLine[] = []): Logger & { lines: LogLine[] } {
  const at =
    (level: LogLine["level"]) =>
    (fields: object | string, message?: string): void => {
      lines.push(typeof fields === "string" ? { level, fields: {}, message: fields } : { level, fields, message: message ?? "" });
    };
  const logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), child: () => logger, lines };
  return logger;
}

/** What client-node 1.x/2.x throws for a non-2xx answer (ApiException's shape). */
export function apiException(code: number, body: unknown, headers: Record<string, string> = {}): Error {
  return Object.assign(new Error(`HTTP-Code: ${code}\nMessage: Unknown API Status Code!\nBody: ${JSON.stringify(body)}`), {
    code,
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers,
  });
}
