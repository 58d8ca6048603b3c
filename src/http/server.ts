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
import {
  getRunningLoop,
  type AbstractEventLoop,
  CancelledError,
  type Future,
  gather,
  Server,
  Task,
  wait,
  waitFuture,
} from "../core/index.ts";
import type { WebSocket } from "../ws/index.ts";
import { handleUpgrade } from "./websocket-routes.ts";
import type { Application } from "./application.ts";
import { HttpError } from "./errors.ts";
import { Request } from "./request.ts";
import { Response, isAsyncIterable, text } from "./responses.ts";

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
  // Request and WebSocket handler tasks still running.
  readonly #tasks = new Set<Task<unknown>>();
  // Open server-side WebSocket connections (sent 1001 on shutdown).
  readonly #websockets = new Set<WebSocket>();
  #shutdown: Task<void> | null = null;
  // Settled by the Node server's "close" event: its listening handle and every connection are gone.
  readonly #nodeClosed: Future<void>;

  /** @internal created by `app.serve()`. */
  constructor(loop: AbstractEventLoop, httpServer: NodeHttpServer, app: Application, options: ServeOptions) {
    super(loop, [httpServer]);
    this.#app = app;
    this.#httpServer = httpServer;
    this.#shutdownTimeout = options.shutdownTimeout ?? 10;
    const nodeClosed = loop.createFuture<void>();
    this.#nodeClosed = nodeClosed;
    httpServer.once("close", () => nodeClosed.setResult(undefined));
    httpServer.on("request", (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res));
    httpServer.on("upgrade", (req: IncomingMessage, socket, head: Buffer) => {
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

  /** Waits until the shutdown is complete: handlers finished or cancelled, connections gone. */
  override async waitClosed(): Promise<void> {
    if (this.#shutdown !== null) await this.#shutdown;
    await super.waitClosed();
  }

  override toString(): string {
    return super.toString().replace(/>$/, ` tasks=${this.#tasks.size} websockets=${this.#websockets.size}>`);
  }

  readonly #track = (task: Task<unknown>): void => {
    this.#tasks.add(task);
    task.addDoneCallback(() => this.#tasks.delete(task));
  };

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
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

  // Synchronous when the handler answers at once (the common case), a promise otherwise.
  #handle(req: IncomingMessage, res: ServerResponse): Promise<void> | undefined {
    const request = new Request(req, this.#app.options.maxBodySize);
    let outcome: Response | Promise<Response>;
    try {
      outcome = this.#app.handle(request);
    } catch (error) {
      outcome = this.#errorResponse(error, request);
    }
    if (!(outcome instanceof Response)) return this.#finish(outcome, res, request);
    if (isAsyncIterable(outcome.body)) return this.#send(res, outcome, request);
    this.#write(res, outcome, request);
    return undefined;
  }

  async #finish(pending: Promise<Response>, res: ServerResponse, request: Request): Promise<void> {
    let response: Response;
    try {
      response = await pending;
    } catch (error) {
      if (error instanceof CancelledError) throw error;
      response = this.#errorResponse(error, request);
    }
    await this.#send(res, response, request);
  }

  async #send(res: ServerResponse, response: Response, request: Request): Promise<void> {
    if (!isAsyncIterable(response.body)) return this.#write(res, response, request);
    if (this.#shutdown !== null) response.headers.connection = "close";
    try {
      await streamResponse(res, response);
    } catch (error) {
      if (error instanceof CancelledError) throw error;
      this.#sendFailed(res, error, request);
    }
  }

  #write(res: ServerResponse, response: Response, request: Request): void {
    if (this.#shutdown !== null) response.headers.connection = "close";
    try {
      writeResponse(res, response);
    } catch (error) {
      this.#sendFailed(res, error, request);
    }
  }

  // The response could not be written (a bad header value, a failing body stream): log it once,
  // answer 500 if nothing was sent yet, else drop the connection (the client sees a cut response).
  #sendFailed(res: ServerResponse, error: unknown, request: Request): void {
    this.getLoop().callExceptionHandler({ message: `error while sending the response to ${request.method} ${request.path}`, exception: error });
    if (res.headersSent || res.destroyed) {
      // Flush what was sent, then close without the final chunk, so the client sees a cut body.
      const socket = res.socket;
      if (socket !== null) socket.destroySoon();
      else res.destroy();
      return;
    }
    writeResponse(res, text("500 Internal Server Error", { status: 500 }));
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
    this.#httpServer.closeIdleConnections();
    for (const ws of this.#websockets) {
      if (ws.state === "open") ws.raw.close(1001, "server shutting down");
    }
    const running = [...this.#tasks];
    if (running.length > 0) {
      const [, pending] = await wait(running, { timeout: this.#shutdownTimeout });
      for (const task of pending) task.cancel("the server is shutting down");
      await gather([...pending], { returnExceptions: true });
    }
    this.#httpServer.closeAllConnections();
    this.abortClients();
    await this.#nodeClosed;
  }
}

/** Writes a response whose body is complete (or empty) in one go. */
function writeResponse(res: ServerResponse, response: Response): void {
  const body = response.body as string | Uint8Array | null;
  const headers: Record<string, string | number> = response.headers;
  if (body !== null) headers["content-length"] = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
  res.writeHead(response.status, headers);
  if (body === null) res.end();
  else res.end(body);
}

/**
 * Streams an async-iterable body with backpressure (chunked encoding).
 * @throws {CancelledError} when the task is cancelled (the client went away); the body's errors.
 */
async function streamResponse(res: ServerResponse, response: Response): Promise<void> {
  res.writeHead(response.status, response.headers);
  const body = response.body as AsyncIterable<string | Uint8Array>;
  for await (const chunk of body) {
    if (res.destroyed) throw new CancelledError("the client disconnected");
    if (!res.write(chunk)) await drained(res);
  }
  res.end();
}

async function drained(res: ServerResponse): Promise<void> {
  const fut = getRunningLoop().createFuture<void>();
  const done = (): void => {
    res.off("drain", done);
    res.off("close", done);
    if (!fut.done()) fut.setResult(undefined);
  };
  res.on("drain", done);
  res.on("close", done);
  await waitFuture(fut, { onCancel: done });
}
