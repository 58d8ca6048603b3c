/**
 * `broadcast(connections, message)`: websockets' `broadcast()`, for any collection of connections.
 * @module
 */
import { kSendNowait, type WebSocket } from "./connection.ts";

/** Options of `broadcast()`. */
export interface BroadcastOptions {
  /**
   * Skip a connection that already has more than this many bytes buffered (default: no limit, as
   * websockets: every open connection gets the message, however far behind it is).
   */
  highWaterMark?: number;
}

/**
 * Sends `message` to every connection that is open, without waiting for any of them (one slow
 * client must not hold up the others), and returns how many it was sent to. Skipped: connections
 * that are closing or closed, whose peer is gone, that are in the middle of sending a fragmented
 * message (the frames would interleave), or over `highWaterMark`. The message is framed (and
 * compressed) per connection by `ws`.
 * @throws {TypeError} for a message that is neither a string nor a Uint8Array.
 * @example
 * ```ts
 * import { run } from "aiots";
 * import { serve, broadcast, type WebSocket } from "aiots/ws";
 * const clients = new Set<WebSocket>();
 * await run(async () => {
 *   await using server = await serve(async (ws) => {
 *     clients.add(ws);
 *     try { for await (const message of ws) broadcast(clients, message); } finally { clients.delete(ws); }
 *   }, "127.0.0.1", 8765);
 *   await server.serveForever();
 * });
 * ```
 */
export function broadcast(connections: Iterable<WebSocket>, message: string | Uint8Array, options: BroadcastOptions = {}): number {
  if (typeof message !== "string" && !(message instanceof Uint8Array)) {
    throw new TypeError(`broadcast() sends a string (text) or a Uint8Array (binary), not ${typeof message}`);
  }
  const binary = typeof message !== "string";
  const limit = options.highWaterMark ?? Number.POSITIVE_INFINITY;
  let sent = 0;
  for (const ws of connections) {
    if (ws[kSendNowait](message, binary, limit)) sent++;
  }
  return sent;
}
