/** Maps undici's errors to the ones aiots users catch: `TimeoutError` and `ClientConnectionError`. */
import { CancelledError, TimeoutError } from "../core/index.ts";
import { ClientConnectionError, ClientError } from "./errors.ts";

const TIMEOUT_CODES: Record<string, string> = {
  UND_ERR_CONNECT_TIMEOUT: "connect timeout",
  UND_ERR_HEADERS_TIMEOUT: "sockRead timeout waiting for the response headers",
  UND_ERR_BODY_TIMEOUT: "sockRead timeout waiting for the response body",
};

/** The error to throw for `error`, raised while running `method url`. @internal */
export function translateError(error: unknown, method: string, url: URL): unknown {
  if (error instanceof CancelledError || error instanceof TimeoutError || error instanceof ClientError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const where = `${method} ${url.href}`;
  if (typeof code === "string") {
    const timeout = TIMEOUT_CODES[code];
    if (timeout !== undefined) return new TimeoutError(`${timeout} (${where})`, { cause: error });
    if (code.startsWith("UND_ERR_") || code.startsWith("E")) {
      const message = error instanceof Error ? error.message : String(error);
      return new ClientConnectionError(`${where} failed: ${message || code}`, { cause: error });
    }
  }
  return error;
}
