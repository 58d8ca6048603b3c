/**
 * Errors of `aiots/ws`, named as Python's websockets names them.
 * @module
 */

/**
 * The connection is closed: thrown by `recv()` and `send()` once it is (websockets.ConnectionClosed).
 * `code` and `reason` are the close code and reason of the connection.
 * @example
 * ```ts
 * import { ConnectionClosed } from "aiots/ws";
 * try { await ws.recv(); } catch (e) { if (e instanceof ConnectionClosed) console.log(e.code, e.reason); }
 * ```
 */
export class ConnectionClosed extends Error {
  override name = "ConnectionClosed";
  readonly code: number;
  readonly reason: string;
  /** @param cause what made the connection fail, when it did (an invalid frame from the peer...). */
  constructor(code: number, reason: string, cause?: Error) {
    const why = cause === undefined ? "" : `: ${cause.message}`;
    super(`WebSocket connection closed: ${code}${reason === "" ? "" : ` ${reason}`}${describeCode(code)}${why}`, cause === undefined ? undefined : { cause });
    this.code = code;
    this.reason = reason;
  }
}

/** Closed normally, with code 1000 (normal) or 1001 (going away). `for await` ends quietly on it. */
export class ConnectionClosedOK extends ConnectionClosed {
  override name = "ConnectionClosedOK";
}

/** Closed with an error code, or the connection was lost without a close handshake (1006). */
export class ConnectionClosedError extends ConnectionClosed {
  override name = "ConnectionClosedError";
}

/** The server refused the opening handshake with an HTTP status (websockets.InvalidStatus). */
export class InvalidStatus extends Error {
  override name = "InvalidStatus";
  readonly status: number;
  constructor(status: number, url: string) {
    super(`the server rejected the WebSocket connection to ${url} with HTTP ${status}`);
    this.status = status;
  }
}

/** True for the close codes that mean a normal end of the conversation. */
export function isNormalClose(code: number): boolean {
  return code === 1000 || code === 1001;
}

/** The error for a connection closed with `code` and `reason`. */
export function closedError(code: number, reason: string, cause?: Error): ConnectionClosed {
  return isNormalClose(code) ? new ConnectionClosedOK(code, reason) : new ConnectionClosedError(code, reason, cause);
}

const CODE_NAMES: Record<number, string> = {
  1000: "normal closure",
  1001: "going away",
  1002: "protocol error",
  1003: "unsupported data",
  1005: "no status received",
  1006: "connection lost without a close frame",
  1007: "invalid frame payload data",
  1008: "policy violation",
  1009: "message too big",
  1010: "mandatory extension",
  1011: "internal error",
  1012: "service restart",
  1013: "try again later",
};

function describeCode(code: number): string {
  const name = CODE_NAMES[code];
  return name === undefined ? "" : ` (${name})`;
}

const kStatusCode = "status-code";

/** @internal the close code `ws` sent when it failed the connection (it keeps it on a symbol of the error). */
export function statusCodeOf(error: Error): number | null {
  for (const symbol of Object.getOwnPropertySymbols(error)) {
    if (symbol.description === kStatusCode) {
      const code = (error as unknown as Record<symbol, unknown>)[symbol];
      return typeof code === "number" ? code : null;
    }
  }
  return null;
}
