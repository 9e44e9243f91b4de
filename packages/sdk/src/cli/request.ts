import { request } from "node:http";

export interface JsonResponse {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
}

/**
 * One HTTP request to the worker's admin server. node:http rather than fetch: undici's fetch
 * gives up waiting for response headers after 300 s, and a held /drain answers only when the
 * drain is over, which for long jobs is much later. Rejects with a one-line reason.
 */
export function requestJson(
  method: "GET" | "POST",
  url: URL,
  options: { readonly timeoutMs: number | undefined; readonly token: string | undefined },
): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: "application/json" };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", (error) => fail(`the response from ${url.href} broke off: ${error.message}`));
      res.on("end", () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown;
        try {
          body = JSON.parse(text) as unknown;
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body, text });
      });
    });
    const fail = (reason: string): void => {
      clearTimeout(timer);
      req.destroy();
      reject(new Error(reason));
    };
    const { timeoutMs } = options;
    const timer =
      timeoutMs === undefined ? undefined : setTimeout(() => fail(`no answer from ${url.href} within ${timeoutMs / 1000} s`), timeoutMs);
    req.on("error", (error: NodeJS.ErrnoException) => {
      // "connect ECONNREFUSED 127.0.0.1:9464" already names the code; "socket hang up" does not.
      const code = error.code && !error.message.includes(error.code) ? ` (${error.code})` : "";
      fail(`cannot reach the worker at ${url.href}: ${error.message}${code}`);
    });
    req.end();
  });
}
