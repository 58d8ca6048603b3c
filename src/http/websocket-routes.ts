/**
 * Server side of WebSockets: turns an HTTP upgrade into a `WebSocket` and runs its handler in its
 * own task. Used by `app.websocket()` routes (here) and by the standalone `serve()` (ws-serve.ts).
 *
 * `ws` performs the handshake (one `WebSocketServer` in `noServer` mode per route or server,
 * carrying the message size limit, subprotocols and permessage-deflate settings); a bad
 * `Sec-WebSocket-Key` or version gets its 400 from `ws`, an `Origin` outside `origins` a 403 from
 * here. Nothing here depends on the socket being TLS or not. The handler's task is cancelled if the
 * connection is lost without a close handshake; after a clean close, the handler learns it from
 * `recv()` or `send()` (`ConnectionClosedOK`).
 * @module
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { STATUS_CODES } from "node:http";
import { WebSocketServer, type WebSocket as RawWebSocket } from "ws";
import { type AbstractEventLoop, CancelledError, type Task } from "../core/index.ts";
import type { Application, WebSocketRoute } from "./application.ts";
import { Request } from "./request.ts";
import { WebSocket, type ConnectionOptions, type ConnectionInfo, type Compression, ConnectionClosed, deflateOptions } from "../ws/index.ts";

/** A WebSocket route handler: gets the upgrade request and the open connection. */
export type WebSocketHandler = (request: Request, ws: WebSocket) => PromiseLike<void> | void;

/** An allowed `Origin`: an exact origin (`"https://example.com"`), a pattern, or `null` for requests without one. */
export type OriginRule = string | RegExp | null;

/** Server-side options shared by `app.websocket(path, handler, options)` and `serve()`. */
export interface WebSocketRouteOptions extends ConnectionOptions {
  /** Subprotocols this route speaks; the first one the client also offers is chosen. */
  subprotocols?: string[];
  /** Largest message accepted, in bytes (default 1 MiB); a bigger one closes with 1009. `null` for no limit. */
  maxSize?: number | null;
  /** permessage-deflate (default `"deflate"`: accepted when offered, bounded memory); `null` turns it off. */
  compression?: Compression;
  /**
   * Allowed values of the `Origin` header (websockets' `origins`); other handshakes get 403. Absent:
   * every origin is accepted. Include `null` to accept clients that send no `Origin` (non-browsers).
   */
  origins?: OriginRule[];
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

/**
 * @internal `ws` servers in `noServer` mode for these options, and the one to use per request.
 *
 * `ws` treats a numeric `clientMaxWindowBits`/`serverMaxWindowBits` as a requirement: it answers
 * 400 to a client that did not offer `client_max_window_bits`, or that asked for a smaller server
 * window. websockets limits the client's window only when the client offered to be limited, and
 * takes a smaller window when asked. So there are up to four servers, one per combination, and
 * each request goes to the one that fits its first permessage-deflate offer.
 */
export function handshakeServer(options: WebSocketRouteOptions): (req: IncomingMessage) => WebSocketServer {
  const maxSize = options.maxSize === undefined ? 1024 * 1024 : options.maxSize;
  const offered = options.subprotocols ?? [];
  const deflate = deflateOptions(options.compression, "server");
  const made = new Map<string, WebSocketServer>();
  const make = (limitClient: boolean, limitServer: boolean): WebSocketServer => {
    const key = `${limitClient}${limitServer}`;
    let wss = made.get(key);
    if (wss === undefined) {
      const perMessageDeflate =
        deflate === false
          ? false
          : {
              ...deflate,
              clientMaxWindowBits: limitClient ? deflate.clientMaxWindowBits : undefined,
              serverMaxWindowBits: limitServer ? deflate.serverMaxWindowBits : undefined,
            };
      wss = new WebSocketServer({
        noServer: true,
        clientTracking: false,
        perMessageDeflate,
        maxPayload: maxSize === null ? 0 : maxSize,
        handleProtocols: (protocols) => offered.find((p) => protocols.has(p)) ?? false,
      });
      made.set(key, wss);
    }
    return wss;
  };
  if (deflate === false) return () => make(false, false);
  const clientBits = deflate.clientMaxWindowBits;
  const serverBits = deflate.serverMaxWindowBits;
  return (req) => {
    const offer = firstDeflateOffer(req.headers["sec-websocket-extensions"]);
    if (offer === null) return make(false, false);
    const client = offer.get("client_max_window_bits");
    const server = offer.get("server_max_window_bits");
    const limitClient = typeof clientBits === "number" && (client === true || (typeof client === "number" && client >= clientBits));
    const limitServer = typeof serverBits === "number" && !(typeof server === "number" && server < serverBits);
    return make(limitClient, limitServer);
  };
}

// The parameters of the first permessage-deflate offer (a bare parameter is true), or null.
function firstDeflateOffer(header: string | undefined): Map<string, number | true | string> | null {
  if (header === undefined) return null;
  for (const offer of header.split(",")) {
    const [name, ...params] = offer.split(";").map((part) => part.trim());
    if (name?.toLowerCase() !== "permessage-deflate") continue;
    const parsed = new Map<string, number | true | string>();
    for (const param of params) {
      const [key, raw] = param.split("=").map((part) => part.trim().replace(/^"|"$/g, ""));
      if (key === undefined || key === "") continue;
      parsed.set(key.toLowerCase(), raw === undefined ? true : /^\d+$/.test(raw) ? Number(raw) : raw);
    }
    return parsed;
  }
  return null;
}

const servers = new WeakMap<WebSocketRoute, (req: IncomingMessage) => WebSocketServer>();

function serverFor(route: WebSocketRoute, req: IncomingMessage): WebSocketServer {
  let choose = servers.get(route);
  if (choose === undefined) {
    choose = handshakeServer(route.options);
    servers.set(route, choose);
  }
  return choose(req);
}

/** @internal answers an upgrade request with a plain HTTP error and closes the socket. */
export function reject(socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  const body = `${message}\n`;
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\n${extra}` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** @internal the reason `Origin` is refused, or null when `origins` allows it. */
export function refusedOrigin(origins: OriginRule[] | undefined, req: IncomingMessage): string | null {
  if (origins === undefined) return null;
  const origin = req.headers.origin ?? null;
  const allowed = origins.some((rule) => (rule === null ? origin === null : origin !== null && (typeof rule === "string" ? rule === origin : rule.test(origin))));
  if (allowed) return null;
  return origin === null ? "this server requires an Origin header" : `Origin ${JSON.stringify(origin)} is not allowed here`;
}

/** @internal what the handler sees as `ws.request` and `ws.remoteAddress`. */
export function connectionInfo(req: IncomingMessage): ConnectionInfo {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  const socket = req.socket;
  const remoteAddress: [string, number] | null = socket.remoteAddress === undefined ? null : [socket.remoteAddress, socket.remotePort ?? 0];
  return { request: { path: req.url ?? "/", headers }, remoteAddress };
}

/** Where a server keeps its connections and handler tasks. @internal */
export interface HandlerContext {
  loop: AbstractEventLoop;
  track: (task: Task<unknown>) => void;
  websockets: Set<WebSocket>;
}

/**
 * @internal runs `body` as the connection's task: returning closes with 1000, throwing logs the
 * error and closes with 1011, a lost connection cancels the task.
 */
export function startHandler(ctx: HandlerContext, raw: RawWebSocket, ws: WebSocket, name: string, body: () => PromiseLike<void> | void): void {
  const task = ctx.loop.createTask(() => runHandler(ctx, ws, name, body), { name });
  ctx.track(task);
  raw.once("close", () => {
    if (ws.closeCode === 1006) task.cancel("the WebSocket connection was lost");
  });
}

async function runHandler(ctx: HandlerContext, ws: WebSocket, name: string, body: () => PromiseLike<void> | void): Promise<void> {
  ctx.websockets.add(ws);
  try {
    await body();
  } catch (error) {
    if (error instanceof CancelledError) {
      if (ws.state === "open") ws.raw.close(1001, "going away");
      throw error;
    }
    if (!(error instanceof ConnectionClosed)) {
      ctx.loop.callExceptionHandler({ message: `error in the WebSocket handler of ${name}`, exception: error });
      if (ws.state === "open") await ws.close(1011, "internal error");
    }
  } finally {
    ctx.websockets.delete(ws);
  }
  if (ws.state !== "closed") await ws.close(1000);
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
  const refused = refusedOrigin(route.options.origins, req);
  if (refused !== null) return reject(socket, 403, `WebSocket handshake refused: ${refused}`);
  const info = connectionInfo(req);
  serverFor(route, req).handleUpgrade(req, socket, ctx.head, (raw: RawWebSocket) => {
    // Wrapped before the task starts, so no frame that arrives meanwhile is missed.
    const ws = new WebSocket(raw, "server", route.options, ctx.loop, info);
    startHandler(ctx, raw, ws, `WebSocket ${request.path}`, () => route.handler(request, ws));
  });
}
