/**
 * `Application`: routes, middleware, WebSocket routes and channels; `serve()` starts it.
 *
 * How a request flows: the server creates a `Request` and a task for it; the task runs
 * `app.dispatch(request)`, which runs the middleware chain around the routed handler (a missing
 * route is an `HttpError(404/405)` thrown inside the chain, so middleware sees it too).
 * @module
 */
import { createServer } from "node:http";
import { getRunningLoop, CancelledError, waitFuture, inspectSymbol, isThenable, outsideTasks } from "../core/index.ts";
import { Channels, type ChannelsBackend } from "../ws/index.ts";
import type { WebSocketHandler, WebSocketRouteOptions } from "./websocket-routes.ts";
import { HttpError } from "./errors.ts";
import type { Request } from "./request.ts";
import { Response, text } from "./responses.ts";
import { Router } from "./router.ts";
import { HttpServer, type ServeOptions } from "./server.ts";
import { serveWorkers, type WorkerOptions } from "./workers.ts";

/** A request handler: returns a `Response` (a string becomes a `text()` response). */
export type Handler = (request: Request) => PromiseLike<Response | string> | Response | string;

/** Middleware: runs around the handler; call `handler(request)` to go on (aiohttp's middleware). */
export type Middleware = (request: Request, handler: (request: Request) => Promise<Response>) => PromiseLike<Response> | Response;

/** Options of `new Application(...)`; seconds for times. */
export interface ApplicationOptions<C extends ChannelsBackend = Channels> {
  /** Where `app.channels` keeps its groups (default: in memory; `redisChannels()` spans processes). */
  channels?: C;
  /** Largest request body in bytes; bigger ones get 413 (default 1 MiB, aiohttp's `client_max_size`). */
  maxBodySize?: number;
  /** Seconds a client has to send the request headers (slowloris defence; default 10): 408 after. */
  headerTimeout?: number;
  /** Seconds a client has to send a whole request (default 300). */
  requestTimeout?: number;
  /** Largest request head in bytes (default 16 KiB): 431 over it. */
  maxHeaderSize?: number;
  /** Seconds an idle keep-alive connection is kept (default 75, as aiohttp). */
  keepaliveTimeout?: number;
}

/** A WebSocket route, as `app.websocket()` registered it. @internal */
export interface WebSocketRoute {
  handler: WebSocketHandler;
  options: WebSocketRouteOptions;
}

/**
 * A web application (aiohttp's `web.Application`, Sanic's `Sanic`): register routes and middleware,
 * then `serve()` it. Each request runs in its own task, cancelled if the client disconnects.
 * @example
 * ```ts
 * import { run } from "aiots";
 * import { Application, json } from "aiots/http";
 * const app = new Application();
 * app.get("/", async () => json({ message: "Hello, aiots !" }));
 * app.get("/users/:id", async (request) => json({ id: request.params.id }));
 * await run(async () => {
 *   await using server = await app.serve({ host: "127.0.0.1", port: 8000 });
 *   await server.serveForever();
 * });
 * ```
 */
export class Application<C extends ChannelsBackend = Channels> {
  /** Named groups of WebSocket connections for fan-out. */
  readonly channels: C;
  /** @internal */
  readonly router: Router<Handler> = new Router();
  /** @internal */
  readonly wsRouter: Router<WebSocketRoute> = new Router();
  readonly #middleware: Middleware[] = [];
  /** The options in force (defaults filled in). */
  readonly options: Required<Omit<ApplicationOptions, "channels">>;

  /** @throws {RangeError} for a non-positive size or time. */
  constructor(options: ApplicationOptions<C> = {}) {
    this.channels = options.channels ?? (new Channels() as ChannelsBackend as C);
    this.options = {
      maxBodySize: options.maxBodySize ?? 1024 * 1024,
      headerTimeout: options.headerTimeout ?? 10,
      requestTimeout: options.requestTimeout ?? 300,
      maxHeaderSize: options.maxHeaderSize ?? 16 * 1024,
      keepaliveTimeout: options.keepaliveTimeout ?? 75,
    };
    for (const [name, value] of Object.entries(this.options)) {
      if (typeof value !== "number" || !(value > 0)) {
        throw new RangeError(`Application option ${name} must be a positive number, not ${String(value)}`);
      }
    }
  }

  /** Registers `handler` for `method path`; `:name` segments land in `request.params`. @throws {TypeError} for a bad path or handler. */
  route(method: string, path: string, handler: Handler): this {
    if (typeof handler !== "function") throw new TypeError(`the handler of ${method} ${path} must be a function`);
    this.router.add(method, path, handler);
    return this;
  }

  /** `GET path` (also answers HEAD). @throws as `route()`. */
  get(path: string, handler: Handler): this {
    return this.route("GET", path, handler);
  }

  /** `POST path`. @throws as `route()`. */
  post(path: string, handler: Handler): this {
    return this.route("POST", path, handler);
  }

  /** `PUT path`. @throws as `route()`. */
  put(path: string, handler: Handler): this {
    return this.route("PUT", path, handler);
  }

  /** `PATCH path`. @throws as `route()`. */
  patch(path: string, handler: Handler): this {
    return this.route("PATCH", path, handler);
  }

  /** `DELETE path`. @throws as `route()`. */
  delete(path: string, handler: Handler): this {
    return this.route("DELETE", path, handler);
  }

  /**
   * Adds middleware; the first added runs outermost.
   * @example
   * ```ts
   * app.use(async (request, handler) => {
   *   const response = await handler(request);
   *   response.headers["x-served-by"] = "aiots";
   *   return response;
   * });
   * ```
   * @throws {TypeError} when `middleware` is not a function.
   */
  use(middleware: Middleware): this {
    if (typeof middleware !== "function") throw new TypeError("middleware is a function (request, handler) => response");
    this.#middleware.push(middleware);
    return this;
  }

  /**
   * Registers a WebSocket route. The handler gets the upgrade `Request` and the open `WebSocket`;
   * when it returns, the connection is closed with 1000; when it throws, with 1011 (and the error is
   * logged). If the connection is lost without a close handshake, the handler's task is cancelled.
   * @throws {TypeError} for a bad path or handler.
   */
  websocket(path: string, handler: WebSocketHandler, options: WebSocketRouteOptions = {}): this {
    if (typeof handler !== "function") throw new TypeError(`the WebSocket handler of ${path} must be a function`);
    this.wsRouter.add("GET", path, { handler, options });
    return this;
  }

  /**
   * Routes `request` through the middleware to its handler and returns the response.
   * @throws {HttpError} for 404/405 and whatever the handler throws.
   */
  async dispatch(request: Request): Promise<Response> {
    return this.handle(request);
  }

  /**
   * `dispatch()` without the promise when the work is synchronous: a handler that returns a
   * response at once (no middleware) gives the response itself, so the server can write it in the
   * same turn. @internal
   * @throws as `dispatch()`.
   */
  handle(request: Request): Response | Promise<Response> {
    if (this.#middleware.length === 0) return this.#callRoute(request);
    let next = async (req: Request): Promise<Response> => this.#callRoute(req);
    for (let i = this.#middleware.length - 1; i >= 0; i--) {
      const middleware = this.#middleware[i]!;
      const inner = next;
      next = async (req) => checkResponse(await middleware(req, inner), "middleware");
    }
    return next(request);
  }

  /**
   * Starts serving on `host:port` (port 0 picks a free one) and resolves to the aiots `Server`:
   * `server.sockets[0].getsockname()` gives `[host, port]`; `close()` stops accepting, lets running
   * requests finish for `shutdownTimeout` seconds, then cancels them.
   * @throws {Error} when the address cannot be bound (in use, not available).
   */
  async serve(options: ServeOptions = {}): Promise<HttpServer> {
    const loop = getRunningLoop();
    const o = this.options;
    const headersTimeout = o.headerTimeout * 1000;
    const httpServer = createServer({
      headersTimeout,
      requestTimeout: Math.max(o.requestTimeout * 1000, headersTimeout),
      maxHeaderSize: o.maxHeaderSize,
      keepAliveTimeout: o.keepaliveTimeout * 1000,
      // Node checks the timeouts on this interval; a quarter of the header timeout keeps 408s prompt.
      connectionsCheckingInterval: Math.min(30_000, Math.max(25, headersTimeout / 4)),
    });
    const server = new HttpServer(loop, httpServer, this as Application<ChannelsBackend> as Application, options);
    const listening = loop.createFuture<void>();
    const onError = (error: Error): void => {
      if (!listening.done()) listening.setException(error);
    };
    httpServer.once("error", onError);
    outsideTasks(() =>
      httpServer.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 0, backlog: options.backlog, reusePort: (options as WorkerOptions).reusePort }, () => {
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

  /**
   * Serves until SIGTERM (or SIGINT when nothing else handles it) or cancellation, then shuts down
   * gracefully (running requests get `shutdownTimeout` seconds). `onReady` is called with the server
   * once it listens. Returns normally after a signal.
   * @throws {CancelledError} when the calling task is cancelled (after the graceful shutdown).
   */
  async serveForever(options: ServeOptions & WorkerOptions & { onReady?: (server: HttpServer) => void } = {}): Promise<void> {
    if (options.workers !== undefined) return serveWorkers((o) => this.serveForever(o), options);
    const server = await this.serve(options);
    let signalled = false;
    const onSignal = (): void => {
      signalled = true;
      server.close();
    };
    const handleSigint = process.listenerCount("SIGINT") === 0;
    process.on("SIGTERM", onSignal);
    if (handleSigint) process.on("SIGINT", onSignal);
    try {
      options.onReady?.(server);
      await server.serveForever();
    } catch (error) {
      if (!(signalled && error instanceof CancelledError)) throw error;
      await server.waitClosed();
    } finally {
      process.off("SIGTERM", onSignal);
      if (handleSigint) process.off("SIGINT", onSignal);
    }
  }

  toString(): string {
    return `<Application routes=${this.router.toString()} websockets=${this.wsRouter.toString()} middleware=${this.#middleware.length}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  #callRoute(request: Request): Response | Promise<Response> {
    const found = this.router.resolve(request.method, request.path);
    if (found.kind === "not-found") throw new HttpError(404, `no route for ${request.path}`);
    if (found.kind === "method-not-allowed") {
      throw new HttpError(405, `${request.method} is not allowed on ${request.path}`, {
        headers: { allow: found.allow.join(", ") },
      });
    }
    request.params = found.params;
    const result = found.handler(request);
    if (result instanceof Response) return result;
    if (isThenable(result)) return Promise.resolve(result).then((value) => checkResponse(value, "handler"));
    return checkResponse(result, "handler");
  }
}

function checkResponse(value: unknown, what: string): Response {
  if (value instanceof Response) return value;
  if (typeof value === "string") return text(value);
  throw new TypeError(
    `the ${what} returned ${value === undefined ? "nothing" : typeof value}: return a Response (json(), text(), html(), stream()) or a string`,
  );
}
