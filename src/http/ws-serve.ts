/**
 * `serve(handler, host, port, options)`: a standalone WebSocket server (websockets' `serve`).
 *
 * How it works: a Node HTTP server listens (behind TLS when `ssl` is given: one SecureContext,
 * each accepted socket wrapped before HTTP parsing starts). An upgrade request first goes through
 * `processRequest` (which may answer it with an `aiots/http` Response, e.g. a health check), then
 * the `origins` check, then `ws`'s handshake; the open connection's `handler(ws)` runs in its own
 * task (websocket-routes.ts). A request without an upgrade also goes through `processRequest`,
 * and gets 426 Upgrade Required when it returns nothing.
 *
 * Shutdown (`close()`): stop listening, send 1001 to every connection, give handlers
 * `shutdownTimeout` seconds, then cancel what is left and drop the remaining sockets.
 * @module
 */
import { createServer, type IncomingMessage, type Server as NodeHttpServer, type ServerResponse, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { TLSSocket } from "node:tls";
import type { WebSocket as RawWebSocket } from "ws";
import {
  getRunningLoop,
  type AbstractEventLoop,
  CancelledError,
  type Future,
  outsideTasks,
  Server,
  type Task,
  waitFuture,
} from "../core/index.ts";
import { finishOrCancel } from "./drain-tasks.ts";
import { WebSocket, serverSecureContext, type WsSslOption } from "../ws/index.ts";
import { Request } from "./request.ts";
import { Response, isAsyncIterable } from "./responses.ts";
import { connectionInfo, handshakeServer, refusedOrigin, reject, startHandler, type WebSocketRouteOptions } from "./websocket-routes.ts";

/** What `processRequest` returns: a response to send instead of the upgrade, or nothing to go on. */
export type ProcessRequestResult = Response | null | undefined | void;

/** Options of `serve()`: the route options plus the server's own. */
export interface WebSocketServeOptions extends WebSocketRouteOptions {
  /** Serve `wss://`: `{ cert, key }` (PEM) or a `tls.SecureContext`. */
  ssl?: WsSslOption;
  /**
   * Called with every request before the handshake (and with plain HTTP requests): return an
   * `aiots/http` Response (`text()`, `json()`...) to answer it instead, or nothing to go on.
   * An error it throws becomes a 500 (and is logged).
   */
  processRequest?: (request: Request) => ProcessRequestResult | PromiseLike<ProcessRequestResult>;
  /** Listen backlog. */
  backlog?: number;
  /** Seconds handlers get to finish after `close()` sent them 1001, before they are cancelled (default 10). */
  shutdownTimeout?: number;
}

/** A connection handler of `serve()`: runs in its own task while the connection is open. */
export type ServeHandler = (ws: WebSocket) => PromiseLike<void> | void;

/**
 * The server `serve()` resolves to: an aiots `Server` (`sockets`, `close()`, `waitClosed()`,
 * `serveForever()`, `await using`) with the open `connections`.
 * @example
 * ```ts
 * import { run } from "aiots";
 * import { serve } from "aiots/ws";
 * await run(async () => {
 *   await using server = await serve(async (ws) => { for await (const m of ws) await ws.send(m); }, "127.0.0.1", 0);
 *   console.log(server.connections.size); // 0
 * });
 * ```
 */
export class WebSocketServer extends Server {
  readonly #httpServer: NodeHttpServer;
  readonly #shutdownTimeout: number;
  readonly #tasks = new Set<Task<unknown>>();
  readonly #websockets = new Set<WebSocket>();
  #shutdown: Task<void> | null = null;
  readonly #nodeClosed: Future<void>;
  readonly #tls: boolean;

  /** @internal created by `serve()`. */
  constructor(loop: AbstractEventLoop, httpServer: NodeHttpServer, handler: ServeHandler, options: WebSocketServeOptions, tls: boolean) {
    super(loop, [httpServer]);
    this.#httpServer = httpServer;
    this.#tls = tls;
    this.#shutdownTimeout = options.shutdownTimeout ?? 10;
    const nodeClosed = loop.createFuture<void>();
    this.#nodeClosed = nodeClosed;
    httpServer.once("close", () => nodeClosed.setResult(undefined));
    const wss = handshakeServer(options);
    const ctx = { loop, track: this.#track, websockets: this.#websockets };
    httpServer.on("request", (req: IncomingMessage, res: ServerResponse) => {
      this.#run(`WebSocket server request ${req.url}`, res, () => this.#plainRequest(req, res, options));
    });
    httpServer.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on("error", () => socket.destroy());
      if (this.#shutdown !== null) return reject(socket, 503, "the server is shutting down");
      if ((req.headers.upgrade ?? "").toLowerCase() !== "websocket") {
        return reject(socket, 400, `cannot upgrade to ${JSON.stringify(req.headers.upgrade)}: only websocket is supported`);
      }
      const upgrade = async (): Promise<void> => {
        if (options.processRequest !== undefined) {
          const answer = await this.#processRequest(options, req);
          if (answer !== null) return writeRaw(socket, answer);
        }
        const refused = refusedOrigin(options.origins, req);
        if (refused !== null) return reject(socket, 403, `WebSocket handshake refused: ${refused}`);
        if (socket.destroyed) return;
        const info = connectionInfo(req);
        wss(req).handleUpgrade(req, socket, head, (raw: RawWebSocket) => {
          const ws = new WebSocket(raw, "server", options, loop, info);
          startHandler(ctx, raw, ws, `WebSocket ${info.request.path}`, () => handler(ws));
        });
      };
      // Without processRequest the handshake happens in this callback, with no task in between.
      if (options.processRequest === undefined) void upgrade();
      else this.#run(`WebSocket handshake ${req.url}`, socket, upgrade);
    });
  }

  /** The open connections (a live view). */
  get connections(): ReadonlySet<WebSocket> {
    return this.#websockets;
  }

  /** Stops accepting and starts the shutdown (see the module note). Idempotent. */
  override close(): void {
    super.close();
    if (this.#shutdown !== null) return;
    this.#shutdown = this.getLoop().createTask(() => this.#gracefulShutdown(), { name: "websocket-server-shutdown" });
  }

  /** Waits until the shutdown is complete: handlers finished or cancelled, connections gone. */
  override async waitClosed(): Promise<void> {
    if (this.#shutdown !== null) await this.#shutdown;
    await super.waitClosed();
  }

  override toString(): string {
    return super.toString().replace(/>$/, ` ${this.#tls ? "wss" : "ws"} connections=${this.#websockets.size} tasks=${this.#tasks.size}>`);
  }

  readonly #track = (task: Task<unknown>): void => {
    this.#tasks.add(task);
    task.addDoneCallback(() => this.#tasks.delete(task));
  };

  // Runs fn in a task cancelled when `stream` closes first.
  #run(name: string, stream: { once(event: "close", fn: () => void): unknown }, fn: () => Promise<void>): void {
    const task = this.getLoop().createTask(fn, { name });
    this.#track(task);
    stream.once("close", () => task.cancel("the client went away"));
  }

  // Resolves to the response to send instead of the handshake, or null to go on.
  async #processRequest(options: WebSocketServeOptions, req: IncomingMessage): Promise<Response | null> {
    let answer: ProcessRequestResult;
    try {
      answer = await options.processRequest!(new Request(req, 0));
    } catch (error) {
      if (error instanceof CancelledError) throw error;
      this.getLoop().callExceptionHandler({ message: `error in processRequest for ${req.method} ${req.url}`, exception: error });
      return new Response("500 Internal Server Error\n", { status: 500, headers: { "content-type": "text/plain; charset=utf-8" } });
    }
    if (answer === null || answer === undefined) return null;
    if (!(answer instanceof Response)) {
      this.getLoop().callExceptionHandler({
        message: `processRequest for ${req.method} ${req.url} returned ${typeof answer}: return an aiots/http Response (text(), json()...) or nothing`,
      });
      return new Response("500 Internal Server Error\n", { status: 500, headers: { "content-type": "text/plain; charset=utf-8" } });
    }
    return answer;
  }

  async #plainRequest(req: IncomingMessage, res: ServerResponse, options: WebSocketServeOptions): Promise<void> {
    const answer = options.processRequest === undefined ? null : await this.#processRequest(options, req);
    if (answer !== null) return writeResponse(res, answer);
    const body = "426 Upgrade Required: this is a WebSocket server; connect with a WebSocket client (ws:// or wss://)\n";
    res.writeHead(426, {
      upgrade: "websocket",
      connection: "Upgrade, close",
      "content-type": "text/plain; charset=utf-8",
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
  }

  async #gracefulShutdown(): Promise<void> {
    this.#httpServer.closeIdleConnections();
    for (const ws of this.#websockets) {
      if (ws.state === "open") ws.raw.close(1001, "server shutting down");
    }
    await finishOrCancel(this.#tasks, this.#shutdownTimeout);
    this.#httpServer.closeAllConnections();
    this.abortClients();
    await this.#nodeClosed;
  }
}

// The response's headers for a connection that closes after it, with content-length when whole.
function closingHeaders(response: Response): Record<string, string | number | string[]> {
  // One entry per name (lower-cased), repeated names such as set-cookie kept as arrays.
  const headers: Record<string, string | number | string[]> = {};
  for (const [name, value] of response.headers) {
    const key = name.toLowerCase();
    const seen = headers[key];
    headers[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [String(seen)]), value];
  }
  headers["connection"] = "close";
  const body = response.body;
  if (body === null || typeof body === "string" || body instanceof Uint8Array) {
    headers["content-length"] = body === null ? 0 : typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
  }
  return headers;
}

/** Writes `response` to a plain (non-upgrade) request and closes the connection. */
async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  res.writeHead(response.status, closingHeaders(response));
  const body = response.body;
  if (isAsyncIterable(body)) {
    for await (const chunk of body) res.write(chunk);
    res.end();
  } else {
    res.end(body ?? undefined);
  }
}

/** Writes `response` as raw HTTP/1.1 on the socket of an upgrade request that will not be upgraded. */
async function writeRaw(socket: Duplex, response: Response): Promise<void> {
  const headers = closingHeaders(response);
  const body = response.body;
  const whole = !isAsyncIterable(body);
  const head = Object.entries(headers).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((one) => `${k}: ${one}\r\n`)).join("");
  socket.write(`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ""}\r\n${head}\r\n`);
  if (whole) {
    socket.end(body ?? undefined);
    return;
  }
  for await (const chunk of body) socket.write(chunk);
  socket.end();
}

/**
 * Serves WebSockets on `host`:`port` (websockets' `serve`): each connection runs `handler(ws)` in
 * its own task; returning closes it with 1000, throwing logs the error and closes with 1011, a lost
 * connection cancels the task. A plain HTTP request gets 426; `processRequest` may answer any
 * request first (health checks); `ssl` serves `wss://`; permessage-deflate is accepted by default.
 * `host` null listens on every interface; port 0 picks a free port
 * (`server.sockets[0].getsockname()`).
 * @throws {TypeError} for a bad `ssl` or `compression`; the listen error (EADDRINUSE...);
 * `CancelledError`.
 * @example
 * ```ts
 * import { run } from "aiots";
 * import { text } from "aiots/http";
 * import { serve } from "aiots/ws";
 * await run(async () => {
 *   const server = await serve(async (ws) => {
 *     for await (const message of ws) await ws.send(message);
 *   }, "127.0.0.1", 8765, {
 *     processRequest: (request) => (request.path === "/healthz" ? text("OK\n") : undefined),
 *   });
 *   await server.serveForever();
 * });
 * ```
 */
export async function serve(handler: ServeHandler, host: string | null, port: number, options: WebSocketServeOptions = {}): Promise<WebSocketServer> {
  if (typeof handler !== "function") throw new TypeError(`serve() takes the connection handler first, a function (ws) => ..., not ${typeof handler}`);
  const loop = getRunningLoop();
  const context = options.ssl === undefined || options.ssl === false ? null : serverSecureContext(options.ssl);
  const httpServer = createServer();
  if (context !== null) {
    // Wrap each socket in TLS ahead of Node's HTTP connection handling, with the one context.
    const [httpConnection] = httpServer.listeners("connection") as Array<(socket: Duplex) => void>;
    httpServer.removeListener("connection", httpConnection!);
    httpServer.on("connection", (socket: Socket) => {
      const secure = new TLSSocket(socket, { isServer: true, secureContext: context, server: httpServer });
      secure.on("error", () => secure.destroy());
      httpConnection!.call(httpServer, secure);
    });
  }
  const server = new WebSocketServer(loop, httpServer, handler, options, context !== null);
  const listening = loop.createFuture<void>();
  const onError = (error: Error): void => {
    if (!listening.done()) listening.setException(error);
  };
  httpServer.once("error", onError);
  outsideTasks(() =>
    httpServer.listen({ host: host ?? undefined, port, backlog: options.backlog }, () => {
      if (!listening.done()) listening.setResult(undefined);
    }),
  );
  try {
    await waitFuture(listening, { onCancel: () => httpServer.close() });
  } catch (error) {
    server.close();
    throw error;
  } finally {
    httpServer.off("error", onError);
  }
  return server;
}
