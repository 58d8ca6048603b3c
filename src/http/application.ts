/**
 * `Application`: routes, middleware, WebSocket routes and channels; `serve()` starts it.
 *
 * How a request flows: the server creates a `Request` and a task for it; the task runs
 * `app.dispatch(request)`, which runs the middleware chain around the routed handler (a missing
 * route is an `HttpError(404/405)` thrown inside the chain, so middleware sees it too).
 * @module
 */
import { createServer, type Server as NodeHttpServer, type ServerOptions as NodeServerOptions } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import * as tls from "node:tls";
import type { SecureContext } from "node:tls";
import { getRunningLoop, CancelledError, waitFuture, inspectSymbol, isThenable, outsideTasks } from "../core/index.ts";
import { Channels, type ChannelsBackend } from "../ws/index.ts";
import { defaultAccessSink, formatAccessLine } from "./access-log.ts";
import { type AppHook, type CleanupContext, type Hooks, startLifecycle } from "./lifecycle.ts";
import { staticHandler } from "./static-files.ts";
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
  /** Most header fields a request may have (default 200): 431 over it. */
  maxHeaders?: number;
  /**
   * Log each request in Common Log Format: `true` writes lines to stdout, a function gets each
   * line (no newline). Off by default.
   */
  accessLog?: boolean | ((line: string) => void);
}

/** Options of `app.serveForever()`: `serve()`'s, plus `onReady`. */
export interface ServeForeverOptions extends ServeOptions {
  /** Called with the server once it listens. */
  onReady?: (server: HttpServer) => void;
}

type NumericOptions = Required<Omit<ApplicationOptions, "accessLog" | "channels">>;

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
  readonly #hooks: Hooks = { startup: [], shutdown: [], cleanup: [] };
  /** The options in force (defaults filled in). */
  readonly options: NumericOptions & { accessLog: false | ((line: string) => void) };
  /**
   * Application-wide state for handlers and hooks (aiohttp's `app[key]`): a database pool set in
   * `onStartup`, read as `request.app.state.get("db")`.
   */
  readonly state: Map<string, unknown> = new Map();

  /** @throws {RangeError} for a non-positive size or time; {TypeError} for a bad `accessLog`. */
  constructor(options: ApplicationOptions<C> = {}) {
    this.channels = options.channels ?? (new Channels() as ChannelsBackend as C);
    const numeric: NumericOptions = {
      maxBodySize: options.maxBodySize ?? 1024 * 1024,
      headerTimeout: options.headerTimeout ?? 10,
      requestTimeout: options.requestTimeout ?? 300,
      maxHeaderSize: options.maxHeaderSize ?? 16 * 1024,
      keepaliveTimeout: options.keepaliveTimeout ?? 75,
      maxHeaders: options.maxHeaders ?? 200,
    };
    for (const [name, value] of Object.entries(numeric)) {
      if (typeof value !== "number" || !(value > 0)) {
        throw new RangeError(`Application option ${name} must be a positive number, not ${String(value)}`);
      }
    }
    const log = options.accessLog ?? false;
    if (typeof log !== "boolean" && typeof log !== "function") {
      throw new TypeError(`Application option accessLog is true, false or a function (line) => void, not ${typeof log}`);
    }
    this.options = { ...numeric, accessLog: log === true ? defaultAccessSink : log };
  }

  /**
   * Registers `handler` for `method path`; `:name` and `{name}` segments land in `request.params`.
   * @throws {TypeError} for a bad path or handler.
   */
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
   * Serves the files under `directory` at `prefix` (aiohttp's `add_static`): GET and HEAD, with
   * content type, ETag/If-None-Match and Last-Modified/If-Modified-Since (304), and byte ranges
   * (206/416). Nothing outside `directory` is ever served: `..`, encoded or not, `%2F` in a
   * segment, NUL and symlinks that lead outside all give 404.
   * @example
   * ```ts
   * import { Application } from "aiots/http";
   * new Application().static("/assets", "./public");
   * ```
   * @throws {TypeError} for a bad prefix or directory.
   */
  static(prefix: string, directory: string): this {
    if (typeof prefix !== "string" || !prefix.startsWith("/")) throw new TypeError(`a static prefix starts with "/", e.g. "/static", not ${JSON.stringify(prefix)}`);
    const base = prefix.replace(/\/+$/, "");
    return this.route("GET", `${base}/*path`, staticHandler(base, directory));
  }

  /**
   * Runs `hook(app)` when `serve()` starts, before it listens (aiohttp's `on_startup`).
   * @example
   * ```ts
   * import { Application } from "aiots/http";
   * const app = new Application();
   * app.onStartup((app) => { app.state.set("started", Date.now()); });
   * ```
   * @throws {TypeError} when `hook` is not a function.
   */
  onStartup(hook: AppHook): this {
    this.#hooks.startup.push(checkHook(hook, "onStartup"));
    return this;
  }

  /**
   * Runs `hook(app)` when the server shuts down, before running requests are awaited
   * (aiohttp's `on_shutdown`: close long-lived connections here).
   * @throws {TypeError} when `hook` is not a function.
   */
  onShutdown(hook: AppHook): this {
    this.#hooks.shutdown.push(checkHook(hook, "onShutdown"));
    return this;
  }

  /**
   * Registers an async generator function whose code before `yield` runs at startup and after it
   * at shutdown, once requests are done (aiohttp's `cleanup_ctx`; cleanups run in reverse order).
   * @example
   * ```ts
   * import { Application } from "aiots/http";
   * const app = new Application();
   * app.cleanupCtx(async function* (app) {
   *   app.state.set("pool", { open: true });
   *   yield;
   *   app.state.delete("pool");
   * });
   * ```
   * @throws {TypeError} when `fn` is not a function.
   */
  cleanupCtx(fn: CleanupContext): this {
    this.#hooks.cleanup.push(checkHook(fn, "cleanupCtx"));
    return this;
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
   * requests finish for `shutdownTimeout` seconds, then cancels them. The `onStartup` hooks and
   * `cleanupCtx` startups run before it listens. With `ssl` it serves HTTPS.
   * @throws {Error} when the address cannot be bound (in use, not available); {TypeError} for an
   * `ssl` without `cert` and `key`; whatever a startup hook throws.
   */
  async serve(options: ServeOptions = {}): Promise<HttpServer> {
    const loop = getRunningLoop();
    const o = this.options;
    const headersTimeout = o.headerTimeout * 1000;
    const nodeOptions: NodeServerOptions = {
      headersTimeout,
      requestTimeout: Math.max(o.requestTimeout * 1000, headersTimeout),
      maxHeaderSize: o.maxHeaderSize,
      keepAliveTimeout: o.keepaliveTimeout * 1000,
      // Node checks the timeouts on this interval; a quarter of the header timeout keeps 408s prompt.
      connectionsCheckingInterval: Math.min(30_000, Math.max(25, headersTimeout / 4)),
    };
    const tlsOptions = options.ssl === undefined ? null : serverTls(options.ssl);
    const lifecycle = await startLifecycle(this as Application<ChannelsBackend> as Application, this.#hooks);
    const httpServer = tlsOptions === null ? createServer(nodeOptions) : httpsServer(nodeOptions, tlsOptions);
    // One more than allowed, so that the server can tell "too many" from "just enough".
    httpServer.maxHeadersCount = o.maxHeaders + 1;
    const log = o.accessLog;
    const server = new HttpServer(loop, httpServer, this as Application<ChannelsBackend> as Application, options, {
      lifecycle,
      accessLog: log === false ? null : (request, res, ctx) => log(formatAccessLine(request, res, ctx)),
    });
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
      await lifecycle.cleanup();
      throw error;
    } finally {
      httpServer.off("error", onError);
    }
    return server;
  }

  /**
   * Serves until SIGINT (Ctrl-C) or SIGTERM, or cancellation, then shuts down gracefully (running
   * requests get `shutdownTimeout` seconds) and returns normally after a signal. The signals are
   * handled with the loop's `addSignalHandler` for the time of the call (this replaces `run()`'s
   * own Ctrl-C handling and any earlier handler of the loop for them, which are removed after).
   * `onReady` is called with the server once it listens.
   * @throws {CancelledError} when the calling task is cancelled (after the graceful shutdown); as `serve()`.
   */
  async serveForever(options: ServeForeverOptions & WorkerOptions = {}): Promise<void> {
    if (options.workers !== undefined) return serveWorkers((o) => this.serveForever(o), options);
    // The one place serveForever's own options are taken apart from serve()'s.
    const { onReady, ...serveOptions } = options;
    const server = await this.serve(serveOptions);
    const loop = getRunningLoop();
    let signalled = false;
    const onSignal = (): void => {
      signalled = true;
      server.close();
    };
    const signals = ["SIGINT", "SIGTERM"] as const;
    const installed: string[] = [];
    for (const name of signals) {
      try {
        loop.addSignalHandler(name, onSignal);
        installed.push(name);
      } catch {
        // A platform without this signal: nothing to handle.
      }
    }
    try {
      onReady?.(server);
      await server.serveForever();
    } catch (error) {
      if (!(signalled && error instanceof CancelledError)) throw error;
      await server.waitClosed();
    } finally {
      for (const name of installed) loop.removeSignalHandler(name);
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

function checkHook<F>(fn: F, what: string): F {
  if (typeof fn !== "function") throw new TypeError(`${what}() takes a function of the application, not ${typeof fn}`);
  return fn;
}

/**
 * An HTTPS server. A ready `SecureContext` has no documented way into a `tls.Server` (its
 * `secureContext` option is only read by client sockets; the server builds its context from the
 * cert/key options), so it is installed where the server keeps its context, `_sharedCreds`; the
 * SNI callback hands it out too, for clients that send a server name.
 * @throws {Error} if a future Node no longer keeps its context there.
 */
function httpsServer(nodeOptions: NodeServerOptions, tlsOptions: { secureContext: SecureContext } | Record<string, unknown>): NodeHttpServer {
  if (!("secureContext" in tlsOptions)) return createHttpsServer({ ...nodeOptions, ...tlsOptions });
  const context = tlsOptions.secureContext as SecureContext;
  const server = createHttpsServer({ ...nodeOptions, SNICallback: (_name, cb) => cb(null, context) });
  const slots = server as unknown as { _sharedCreds?: SecureContext };
  if (!("_sharedCreds" in slots)) {
    throw new Error("this Node version does not take a ready tls.SecureContext for a server: pass ssl as { cert, key, ... } options instead");
  }
  slots._sharedCreds = context;
  return server;
}

/** Node TLS options for a server from `ssl`. @throws {TypeError} when it has no cert and key. */
function serverTls(ssl: unknown): { secureContext: SecureContext } | Record<string, unknown> {
  if (ssl instanceof (tls as unknown as { SecureContext: new () => SecureContext }).SecureContext) return { secureContext: ssl };
  if (typeof ssl === "object" && ssl !== null) {
    const o = ssl as Record<string, unknown>;
    if ((o.cert !== undefined && o.key !== undefined) || o.pfx !== undefined) return o;
  }
  throw new TypeError(
    `a server's ssl is a tls.SecureContext or TLS options with cert and key (PEM strings or Buffers), not ${ssl === null ? "null" : typeof ssl === "object" ? "options without cert and key" : String(ssl)}; true/false are client settings`,
  );
}

function checkResponse(value: unknown, what: string): Response {
  if (value instanceof Response) return value;
  if (typeof value === "string") return text(value);
  throw new TypeError(
    `the ${what} returned ${value === undefined ? "nothing" : typeof value}: return a Response (json(), text(), html(), stream()) or a string`,
  );
}
