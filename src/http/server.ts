/**
 * `HttpServer`: the aiots `Server` that `app.serve()` resolves to, and the per-request tasks.
 *
 * How it works: Node's `http` parses requests (malformed ones get 400, oversized heads 431, slow
 * heads 408, without reaching aiots). Each parsed request becomes a task running
 * `app.dispatch()`; if the connection closes before the response is finished, that task is
 * cancelled, so the handler's `await` throws `CancelledError` and its `task.signal` aborts.
 * Handler errors become a 500 and are reported once to the loop's exception handler.
 *
 * Shutdown (`close()`): stop listening, close idle keep-alive connections, send 1001 to WebSockets,
 * let running requests finish for `shutdownTimeout` seconds, then cancel what is left and drop
 * the remaining connections. `waitClosed()` resolves once all of that is done.
 * @module
 */
import type { IncomingMessage, Server as NodeHttpServer, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { SecureContext, SecureContextOptions } from "node:tls";
import { type AbstractEventLoop, CancelledError, type Future, Server, Task, sleep } from "../core/index.ts";
import { finishOrCancel } from "./drain-tasks.ts";
import type { WebSocket } from "../ws/index.ts";
import { handleUpgrade } from "./websocket-routes.ts";
import type { Application } from "./application.ts";
import { HttpError } from "./errors.ts";
import { Request, kApplication, kNodeResponse, kSendContext } from "./request.ts";
import { Response, isAsyncIterable, text } from "./responses.ts";
import { type SendContext, streamResponse, writeResponse } from "./send.ts";
import { FileResponse } from "./static-files.ts";
import { StreamResponse } from "./stream-response.ts";

/** What the server runs around its life: the application's shutdown and cleanup hooks. @internal */
export interface ServerLifecycle {
  shutdown(): Promise<void>;
  cleanup(): Promise<void>;
}

/** Writes one access-log line for a finished request. @internal */
export type AccessLogger = (request: Request, res: ServerResponse, ctx: SendContext) => void;

/** Options of `app.serve()`. */
export interface ServeOptions {
  /** Address to listen on (default `"127.0.0.1"`). */
  host?: string;
  /** Port (default 0: a free port; read it with `server.sockets[0].getsockname()`). */
  port?: number;
  /** Listen backlog. */
  backlog?: number;
  /** Seconds running requests get to finish on `close()` before they are cancelled (default 10). */
  shutdownTimeout?: number;
  /**
   * Serve HTTPS: a `tls.SecureContext`, or TLS options that carry `cert` and `key` (PEM), plus
   * `ca`, `passphrase`, ... as `tls.createSecureContext()` takes them.
   */
  ssl?: SecureContext | (SecureContextOptions & { cert: unknown; key: unknown });
}

/**
 * The server `app.serve()` resolves to: an aiots `Server` (`sockets`, `close()`, `waitClosed()`,
 * `serveForever()`, `await using`) whose `close()` is a graceful HTTP shutdown.
 * @example
 * ```ts
 * import { run } from "aiots";
 * import { Application, text } from "aiots/http";
 * const app = new Application().get("/", () => text("hi"));
 * await run(async () => {
 *   await using server = await app.serve({ host: "127.0.0.1", port: 0 });
 *   const [host, port] = server.sockets[0]!.getsockname() as [string, number];
 *   console.log(`http://${host}:${port}/`);
 * });
 * ```
 */
export class HttpServer extends Server {
  readonly #app: Application;
  readonly #httpServer: NodeHttpServer;
  readonly #shutdownTimeout: number;
  readonly #fresh = new Set<Socket>();
  // Request and WebSocket handler tasks still running.
  readonly #tasks = new Set<Task<unknown>>();
  // Open server-side WebSocket connections (sent 1001 on shutdown).
  readonly #websockets = new Set<WebSocket>();
  #shutdown: Task<void> | null = null;
  // Settled by the Node server's "close" event: its listening handle and every connection are gone.
  readonly #nodeClosed: Future<void>;
  // waitClosed() callers; null once the shutdown is complete (then waitClosed() returns at once).
  #closedWaiters: Future<void>[] | null = [];
  readonly #lifecycle: ServerLifecycle | null;
  readonly #accessLog: AccessLogger | null;
  readonly #maxBodySize: number;

  /** @internal created by `app.serve()`. */
  constructor(
    loop: AbstractEventLoop,
    httpServer: NodeHttpServer,
    app: Application,
    options: ServeOptions,
    extra: { lifecycle?: ServerLifecycle; accessLog?: AccessLogger | null } = {},
  ) {
    super(loop, [httpServer]);
    this.#app = app;
    this.#httpServer = httpServer;
    this.#shutdownTimeout = options.shutdownTimeout ?? 10;
    this.#lifecycle = extra.lifecycle ?? null;
    this.#accessLog = extra.accessLog ?? null;
    this.#maxBodySize = app.options.maxBodySize;
    const nodeClosed = loop.createFuture<void>();
    this.#nodeClosed = nodeClosed;
    // The future may already be cancelled (a shutdown cut short when run() ended).
    httpServer.once("close", () => {
      if (!nodeClosed.done()) nodeClosed.setResult(undefined);
    });
    httpServer.on("request", (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res));
    // Connections that have not begun a request yet (a shutdown gives them a moment, see below).
    httpServer.on("connection", (socket: Socket) => {
      this.#fresh.add(socket);
      socket.once("close", () => this.#fresh.delete(socket));
    });
    httpServer.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => this.#onCheckContinue(req, res));
    httpServer.on("upgrade", (req: IncomingMessage, socket, head: Buffer) => {
      this.#fresh.delete(socket as Socket);
      (req as unknown as { [kApplication]: Application })[kApplication] = app;
      handleUpgrade({ loop, app, req, socket, head, closing: this.#shutdown !== null, track: this.#track, websockets: this.#websockets });
    });
  }

  /** Request and WebSocket handlers still running. */
  get activeTasks(): number {
    return this.#tasks.size;
  }

  /** Stops accepting and starts the graceful shutdown (see the module note). Idempotent. */
  override close(): void {
    super.close();
    if (this.#shutdown !== null) return;
    this.#shutdown = this.getLoop().createTask(() => this.#gracefulShutdown(), { name: "http-server-shutdown" });
  }

  /**
   * Waits until the shutdown is complete: handlers finished or cancelled, connections gone, the
   * application's cleanup done. Called before `close()` (websockets' pattern: a signal handler
   * closes, the main task waits), it waits for that `close()` and the shutdown after it.
   */
  override async waitClosed(): Promise<void> {
    if (this.#closedWaiters === null) return;
    const waiter = this.getLoop().createFuture<void>();
    this.#closedWaiters.push(waiter);
    try {
      await waiter;
    } finally {
      const i = this.#closedWaiters?.indexOf(waiter) ?? -1;
      if (i >= 0) this.#closedWaiters?.splice(i, 1);
    }
  }

  override toString(): string {
    return super.toString().replace(/>$/, ` tasks=${this.#tasks.size} websockets=${this.#websockets.size}>`);
  }

  readonly #track = (task: Task<unknown>): void => {
    this.#tasks.add(task);
    task.addDoneCallback(() => this.#tasks.delete(task));
  };

  #onCheckContinue(req: IncomingMessage, res: ServerResponse): void {
    this.#fresh.delete(req.socket);
    // A body declared over the limit gets its 413 before the client sends it (no 100 Continue).
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > this.#maxBodySize) {
      const body = `request body is larger than the limit of ${this.#maxBodySize} bytes`;
      const ctx: SendContext = { method: req.method ?? "GET", close: true, sent: 0 };
      writeResponse(res, text(body, { status: 413 }), ctx);
      return;
    }
    res.writeContinue();
    this.#onRequest(req, res);
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.#fresh.delete(req.socket);
    const refusal = this.#refusal(req);
    if (refusal !== null) {
      writeResponse(res, refusal, { method: req.method ?? "GET", close: true, sent: 0 });
      return;
    }
    // Started eagerly (asyncio's eager_task_factory): a handler that answers without waiting
    // writes its response in this very callback, with no extra loop iteration per request.
    const task = new Task(() => this.#handle(req, res), { loop: this.getLoop(), eagerStart: true, name: "http-request" });
    // Most requests are answered during the eager start; only the others need tracking and
    // cancelling when their client goes away.
    if (task.done()) return;
    this.#track(task);
    res.once("close", () => {
      if (!res.writableFinished) task.cancel("the client disconnected before the response was sent");
    });
  }

  // What Node's parser lets through and RFC 9112 says to refuse: more header fields than
  // allowed (431), and several Host fields (400, §3.2; Node keeps the first silently).
  #refusal(req: IncomingMessage): Response | null {
    const raw = req.rawHeaders;
    if (raw.length > 2 * this.#app.options.maxHeaders) {
      return text(`too many header fields: at most ${this.#app.options.maxHeaders}`, { status: 431 });
    }
    let hosts = 0;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.length === 4 && name.toLowerCase() === "host") hosts++;
    }
    return hosts > 1 ? text("several Host header fields", { status: 400 }) : null;
  }

  // Synchronous when the handler answers at once (the common case), a promise otherwise.
  #handle(req: IncomingMessage, res: ServerResponse): Promise<void> | undefined {
    const request = new Request(req, this.#maxBodySize, this.#app);
    request[kNodeResponse] = res;
    const ctx: SendContext = { method: request.method, close: false, sent: 0 };
    request[kSendContext] = ctx;
    if (this.#accessLog !== null) {
      const log = this.#accessLog;
      res.once("close", () => log(request, res, ctx));
    }
    let outcome: Response | Promise<Response>;
    try {
      outcome = this.#app.handle(request);
    } catch (error) {
      outcome = this.#errorResponse(error, request);
    }
    if (!(outcome instanceof Response)) return this.#finish(outcome, res, request, ctx);
    const body = outcome.body;
    if (typeof body !== "string" && !(body instanceof Uint8Array) && (body !== null || outcome instanceof StreamResponse || outcome instanceof FileResponse)) {
      return this.#send(res, outcome, request, ctx);
    }
    this.#write(res, outcome, request, ctx);
    return undefined;
  }

  async #finish(pending: Promise<Response>, res: ServerResponse, request: Request, ctx: SendContext): Promise<void> {
    let response: Response;
    try {
      response = await pending;
    } catch (error) {
      if (error instanceof CancelledError) throw error;
      response = this.#errorResponse(error, request);
    }
    await this.#send(res, response, request, ctx);
  }

  async #send(res: ServerResponse, response: Response, request: Request, ctx: SendContext): Promise<void> {
    if (this.#shutdown !== null) ctx.close = true;
    if (response instanceof StreamResponse) {
      if (!response.prepared && !res.headersSent) this.#write(res, response, request, ctx);
      else response.finish();
      return;
    }
    try {
      if (response instanceof FileResponse) await response.send(res, request, ctx);
      else if (isAsyncIterable(response.body)) await streamResponse(res, response, ctx);
      else this.#write(res, response, request, ctx);
    } catch (error) {
      if (error instanceof CancelledError) throw error;
      if (error instanceof HttpError && !res.headersSent) {
        this.#write(res, this.#errorResponse(error, request), request, ctx);
        return;
      }
      this.#sendFailed(res, error, request, ctx);
    }
  }

  #write(res: ServerResponse, response: Response, request: Request, ctx: SendContext): void {
    if (this.#shutdown !== null) ctx.close = true;
    try {
      writeResponse(res, response, ctx);
    } catch (error) {
      this.#sendFailed(res, error, request, ctx);
    }
  }

  // The response could not be written (a header Node refuses, a failing body stream): log it once,
  // answer a proper 500 if nothing was sent yet, else drop the connection (the client sees a cut
  // response).
  #sendFailed(res: ServerResponse, error: unknown, request: Request, ctx: SendContext): void {
    this.getLoop().callExceptionHandler({ message: `error while sending the response to ${request.method} ${request.path}`, exception: error });
    if (res.headersSent || res.destroyed) {
      // Flush what was sent, then close without the final chunk, so the client sees a cut body.
      const socket = res.socket;
      if (socket !== null) socket.destroySoon();
      else res.destroy();
      return;
    }
    ctx.sent = 0;
    writeResponse(res, text("500 Internal Server Error", { status: 500 }), ctx);
  }

  #errorResponse(error: unknown, request: Request): Response {
    if (error instanceof CancelledError) throw error;
    if (error instanceof HttpError) return text(error.message, { status: error.status, headers: error.headers });
    this.getLoop().callExceptionHandler({
      message: `error handling request ${request.method} ${request.path}`,
      exception: error,
    });
    return text("500 Internal Server Error", { status: 500 });
  }

  async #gracefulShutdown(): Promise<void> {
    try {
      // A connection accepted just before the close may not have sent its request yet: Node counts
      // it idle, and closing it would reset a request the client has sent (under node:cluster, a
      // connection the primary handed over as the worker closed). Such connections get a moment.
      const loop = this.getLoop();
      const deadline = loop.time() + Math.min(1, this.#shutdownTimeout);
      while (this.#fresh.size > 0 && loop.time() < deadline) await sleep(0.01);
      this.#httpServer.closeIdleConnections();
      for (const ws of this.#websockets) {
        if (ws.state === "open") ws.raw.close(1001, "server shutting down");
      }
      // aiohttp's order: on_shutdown while requests may still run, cleanup once they are done.
      await this.#lifecycle?.shutdown();
      await finishOrCancel(this.#tasks, this.#shutdownTimeout);
      this.#httpServer.closeAllConnections();
      this.abortClients();
      await this.#nodeClosed;
      await this.#lifecycle?.cleanup();
    } finally {
      const waiters = this.#closedWaiters;
      this.#closedWaiters = null;
      for (const w of waiters ?? []) if (!w.done()) w.setResult(undefined);
    }
  }
}
