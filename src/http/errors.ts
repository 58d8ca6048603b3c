/**
 * Errors of `aiots/http`, named as aiohttp names them. Timeouts are aiots' `TimeoutError`.
 * @module
 */
import { STATUS_CODES } from "node:http";

/**
 * Base class of the HTTP client's errors (aiohttp.ClientError).
 * @example
 * ```ts
 * import { ClientError } from "aiots/http";
 * try { await session.get("http://127.0.0.1:1/"); } catch (e) { if (e instanceof ClientError) console.log(e.message); }
 * ```
 */
export class ClientError extends Error {
  override name = "ClientError";
}

/** The client could not connect, or the connection broke (aiohttp.ClientConnectionError). */
export class ClientConnectionError extends ClientError {
  override name = "ClientConnectionError";
}

/** Options of `ClientResponseError`. */
export interface ClientResponseErrorInit {
  status: number;
  statusText: string;
  url: string;
  method: string;
}

/**
 * `raiseForStatus()` saw a status >= 400 (aiohttp.ClientResponseError). `status` is the code.
 * @example
 * ```ts
 * import { ClientResponseError } from "aiots/http";
 * try { (await session.get(url)).raiseForStatus(); } catch (e) { if (e instanceof ClientResponseError) console.log(e.status); }
 * ```
 */
export class ClientResponseError extends ClientError {
  override name = "ClientResponseError";
  readonly status: number;
  readonly url: string;
  readonly method: string;
  constructor(init: ClientResponseErrorInit) {
    super(`${init.status} ${init.statusText}, ${init.method} ${init.url}`);
    this.status = init.status;
    this.url = init.url;
    this.method = init.method;
  }
}

/**
 * Throw from a request handler (or middleware) to answer with `status` (aiohttp's HTTPException).
 * The message becomes the plain-text body; `headers` are added to the response.
 * @example
 * ```ts
 * import { Application, HttpError } from "aiots/http";
 * const app = new Application();
 * app.get("/admin", () => { throw new HttpError(403, "no entry"); });
 * ```
 */
export class HttpError extends Error {
  override name = "HttpError";
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(status: number, message?: string, options?: { headers?: Record<string, string> }) {
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError(`HttpError status must be an integer from 400 to 599, not ${status}`);
    }
    super(message ?? defaultReason(status));
    this.status = status;
    this.headers = options?.headers ?? {};
  }
}

function defaultReason(status: number): string {
  return STATUS_CODES[status] ?? `HTTP ${status}`;
}
