/**
 * Server side of WebSockets: turns an HTTP upgrade into a `WebSocket` and runs the route's handler
 * in its own task.
 *
 * `ws` performs the handshake (one `WebSocketServer` in `noServer` mode per route, carrying the
 * route's message size limit and subprotocols). The handler's task is cancelled if the connection
 * is lost without a close handshake; after a clean close, the handler learns it from `recv()` or
 * `send()` (`ConnectionClosedOK`).
 * @module
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { STATUS_CODES } from "node:http";
import { WebSocketServer, type WebSocket as RawWebSocket } from "ws";
import { type AbstractEventLoop, CancelledError, type Task } from "../core/index.ts";
import type { Application, WebSocketRoute } from "./application.ts";
import { Request } from "./request.ts";
import { WebSocket, type ConnectionOptions, ConnectionClosed } from "../ws/index.ts";

/** A WebSocket route handler: gets the upgrade request and the open connection. */
export type WebSocketHandler = (request: Request, ws: WebSocket) => PromiseLike<void> | void;

/** Options of `app.websocket(path, handler, options)`. */
export interface WebSocketRouteOptions extends ConnectionOptions {
  /** Subprotocols this route speaks; the first one the client also offers is chosen. */
  subprotocols?: string[];
  /** Largest message accepted, in bytes (default 1 MiB); a bigger one closes with 1009. `null` for no limit. */
  maxSize?: number | null;
}

/** What `handleUpgrade` needs from the HTTP server. @internal */
export interface UpgradeContext {
  loop: AbstractEventLoop;
  app: Application;
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  closing: boolean;
  track: (task: Task<unknown>) => void;
  websockets: Set<WebSocket>;
}

const servers = new WeakMap<WebSocketRoute, WebSocketServer>();

function serverFor(route: WebSocketRoute): WebSocketServer {
  let wss = servers.get(route);
  if (wss === undefined) {
    const maxSize = route.options.maxSize === undefined ? 1024 * 1024 : route.options.maxSize;
    const offered = route.options.subprotocols ?? [];
    wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: maxSize === null ? 0 : maxSize,
      handleProtocols: (protocols) => offered.find((p) => protocols.has(p)) ?? false,
    });
    servers.set(route, wss);
  }
  return wss;
}

function reject(socket: Duplex, status: number, message: string): void {
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nconnection: close\r\ncontent-type: text/plain\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** Handles one `upgrade` event of the HTTP server. @internal */
export function handleUpgrade(ctx: UpgradeContext): void {
  const { req, socket } = ctx;
  socket.on("error", () => socket.destroy());
  if (ctx.closing) return reject(socket, 503, "the server is shutting down");
  if ((req.headers.upgrade ?? "").toLowerCase() !== "websocket") {
    return reject(socket, 400, `cannot upgrade to ${JSON.stringify(req.headers.upgrade)}: only websocket is supported`);
  }
  const request = new Request(req, 0);
  const found = ctx.app.wsRouter.resolve(request.method, request.path);
  if (found.kind !== "found") return reject(socket, found.kind === "not-found" ? 404 : 405, `no WebSocket route for ${request.path}`);
  request.params = found.params;
  const route = found.handler;
  serverFor(route).handleUpgrade(req, socket, ctx.head, (raw: RawWebSocket) => {
    // Wrapped before the task starts, so no frame that arrives meanwhile is missed.
    const ws = new WebSocket(raw, "server", route.options, ctx.loop);
    const task = ctx.loop.createTask(() => runHandler(ctx, route, request, ws), { name: `WebSocket ${request.path}` });
    ctx.track(task);
    raw.once("close", (code) => {
      if (code === 1006) task.cancel("the WebSocket connection was lost");
    });
  });
}

async function runHandler(ctx: UpgradeContext, route: WebSocketRoute, request: Request, ws: WebSocket): Promise<void> {
  ctx.websockets.add(ws);
  try {
    await route.handler(request, ws);
  } catch (error) {
    if (error instanceof CancelledError) {
      if (ws.state === "open") ws.raw.close(1001, "going away");
      throw error;
    }
    if (!(error instanceof ConnectionClosed)) {
      ctx.loop.callExceptionHandler({ message: `error in the WebSocket handler of ${request.path}`, exception: error });
      if (ws.state === "open") await ws.close(1011, "internal error");
    }
  } finally {
    ctx.websockets.delete(ws);
  }
  if (ws.state !== "closed") await ws.close(1000);
}
