/**
 * `connect(url, options)`: opens a WebSocket client connection (websockets' `connect`).
 *
 * The opening handshake is awaited on an aiots Future: cancelling the calling task, or the
 * `openTimeout`, drops the half-open connection.
 * @module
 */
import { WebSocket as RawWebSocket } from "ws";
import { getRunningLoop, waitFuture, outsideTasks } from "../core/index.ts";
import { WebSocket, type ConnectionOptions } from "./connection.ts";
import { InvalidStatus } from "./errors.ts";

/** Options of `connect()`. */
export interface ConnectOptions extends ConnectionOptions {
  /** Subprotocols to offer, in order of preference. */
  subprotocols?: string[];
  /** Extra headers for the opening handshake. */
  headers?: Record<string, string>;
  /** Largest message accepted, in bytes (default 1 MiB); a bigger one closes with 1009. `null` for no limit. */
  maxSize?: number | null;
  /** Seconds allowed for the opening handshake (default 10). */
  openTimeout?: number | null;
}

/**
 * Connects to a WebSocket server and resolves to the open connection.
 * @throws {InvalidStatus} when the server answers the handshake with an HTTP status;
 * {TimeoutError} past `openTimeout`; {Error} when the connection fails; {TypeError} for a URL that
 * is not `ws:` or `wss:`; `CancelledError`.
 * @example
 * ```ts
 * import { run } from "aiots";
 * import { connect } from "aiots/ws";
 * await run(async () => {
 *   await using ws = await connect("ws://127.0.0.1:8000/feed", { subprotocols: ["feed.v1"] });
 *   for await (const message of ws) console.log(message);
 * });
 * ```
 */
export async function connect(url: string | URL, options: ConnectOptions = {}): Promise<WebSocket> {
  const target = new URL(url);
  if (target.protocol !== "ws:" && target.protocol !== "wss:") {
    throw new TypeError(`connect() takes a ws: or wss: URL, not ${target.protocol} (${target.href})`);
  }
  const loop = getRunningLoop();
  const maxSize = options.maxSize === undefined ? 1024 * 1024 : options.maxSize;
  const raw = outsideTasks(
    () =>
      new RawWebSocket(target, options.subprotocols ?? [], {
        headers: options.headers,
        maxPayload: maxSize === null ? 0 : maxSize,
        perMessageDeflate: false,
      }),
  );
  const opened = loop.createFuture<WebSocket>();
  const settle = (error?: Error): void => {
    if (opened.done()) return;
    // Wrap at once: messages may arrive in the same read as the handshake response.
    if (error === undefined) opened.setResult(new WebSocket(raw, "client", options, loop));
    else opened.setException(error);
  };
  const onOpen = (): void => settle();
  const onError = (error: Error): void => settle(error);
  const onUnexpected = (_req: unknown, res: { statusCode?: number; resume(): void }): void => {
    res.resume();
    settle(new InvalidStatus(res.statusCode ?? 0, target.href));
    raw.terminate();
  };
  raw.once("open", onOpen);
  raw.on("error", onError);
  raw.once("unexpected-response", onUnexpected);
  const openTimeout = options.openTimeout === undefined ? 10 : options.openTimeout;
  let ws: WebSocket;
  try {
    ws = await waitFuture(opened, {
      deadline: openTimeout === null ? null : loop.time() + openTimeout,
      timeoutMessage: `WebSocket opening handshake with ${target.href} timed out after ${openTimeout}s`,
      onCancel: () => raw.terminate(),
    });
  } catch (error) {
    // A failed handshake can still emit an error later; keep it from crashing the process.
    raw.on("error", () => {});
    if (raw.readyState !== RawWebSocket.CLOSED) raw.terminate();
    throw error;
  } finally {
    raw.off("open", onOpen);
    raw.off("error", onError);
    raw.off("unexpected-response", onUnexpected);
  }
  return ws;
}
