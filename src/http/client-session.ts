/**
 * `ClientSession`: aiohttp's client session, on our own keep-alive pool of undici connections.
 *
 * How a request runs: the options are merged (the request's win over the session's), the body is
 * encoded once in a form that can be resent, and the request passes through the client middlewares
 * to the sender, which adds the jar's cookies, takes a connection from the pool
 * (`client-pool.ts`) and runs one exchange on it (`client-exchange.ts`). Redirects are followed
 * here, one hop at a time, each hop through the middlewares again (aiohttp 3.12 does the same). All
 * waits are aiots Futures and all timeouts aiots loop timers, so cancelling the calling task aborts
 * the request at once and every timeout fires on time. undici is loaded on the first request.
 * @module
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type * as tls from "node:tls";
import { type AbstractEventLoop, getRunningLoop, awaitForeign, inspectSymbol, resourceClosed, resourceOpened } from "../core/index.ts";
import { ClientResponse, DECODINGS } from "./client-response.ts";
import { ClientRequest, type RequestBody, bodyToSend, encodeBody, mergeHeaders } from "./client-request.ts";
import { CookieJar, checkCookies } from "./client-cookie-jar.ts";
import { ConnectionPool, type ClientSsl, isSecureContext } from "./client-pool.ts";
import { Exchange } from "./client-exchange.ts";
import { ClientSSLError, translateError } from "./client-errors.ts";
import { ClientConnectionError } from "./errors.ts";
import { followRedirect, isRedirect } from "./client-redirects.ts";
import type { HeadersInit } from "./headers.ts";

/** Timeouts in seconds (aiohttp.ClientTimeout); `null` or absent means none. */
export interface ClientTimeout {
  /** The whole operation: connecting, sending, and reading the response body (default 300). */
  total?: number | null;
  /** Getting a connection: waiting for a free one in the pool, then opening it. */
  connect?: number | null;
  /** Opening a new socket (TCP, then TLS) to the server. */
  sockConnect?: number | null;
  /** Silence while waiting for data: the response headers after the request was sent, then each body chunk. */
  sockRead?: number | null;
}

/** The next step of a middleware chain: sends `request` (and any middlewares after this one). */
export type ClientHandler = (request: ClientRequest) => Promise<ClientResponse>;

/**
 * A client middleware (aiohttp 3.12's `middlewares=`): sees each request (each redirect hop too)
 * and calls `handler` to send it, possibly more than once.
 */
export type ClientMiddleware = (request: ClientRequest, handler: ClientHandler) => Promise<ClientResponse>;

/** What the session and each request accept alike; a request's value wins. */
export interface ClientCommonOptions {
  /** Timeouts, merged field by field over the session's. */
  timeout?: ClientTimeout;
  /** Call `raiseForStatus()` on every (final) response. */
  raiseForStatus?: boolean;
  /** TLS for https: URLs: `true` (verify, the default), `false` (no verification), a `tls.SecureContext`, or `{ ca, cert, key, passphrase, rejectUnauthorized, servername }`. */
  ssl?: ClientSsl;
  /** Follow redirects (default true). */
  allowRedirects?: boolean;
  /** Most redirects followed for one request (default 10); one more throws `TooManyRedirects`. */
  maxRedirects?: number;
  /** Undo gzip, deflate and br content codings (default true). */
  autoDecompress?: boolean;
  /** Most bytes `text()`, `json()` and `bytes()` read (decoded); null (the default) for no limit. */
  maxBodySize?: number | null;
  /** Client middlewares; a request's list replaces the session's. */
  middlewares?: readonly ClientMiddleware[];
  /** Automatic headers not to send (`"User-Agent"`, `"Accept"`, `"Accept-Encoding"`), aiohttp's `skip_auto_headers`. */
  skipAutoHeaders?: readonly string[];
}

/** Options of `new ClientSession(...)`. */
export interface ClientSessionOptions extends ClientCommonOptions {
  /** Prefix for relative request URLs (`session.get("/path")`). */
  baseUrl?: string | URL;
  /** Headers sent with every request (case-insensitive; a request's header replaces the same name). */
  headers?: HeadersInit;
  /** Most connections open at once per origin (default 100). */
  limit?: number;
  /** Seconds an idle keep-alive connection is kept (default 15). */
  keepaliveTimeout?: number;
  /** The cookie jar (default: a new one); pass one jar to several sessions to share cookies. */
  cookieJar?: CookieJar;
  /** Cookies sent to every host (aiohttp's `cookies=`), put in the jar as shared cookies. */
  cookies?: Record<string, string>;
}

/** Options of one request. */
export interface RequestOptions extends ClientCommonOptions {
  /** Query parameters, appended to the URL's own. */
  params?: Record<string, string | number | boolean> | URLSearchParams;
  /** Extra headers for this request (case-insensitive). */
  headers?: HeadersInit;
  /** A value sent as JSON (`Content-Type: application/json`). */
  json?: unknown;
  /** A form (`application/x-www-form-urlencoded`), a `FormData` (multipart/form-data), or a raw body. */
  data?: Record<string, string | number | boolean> | RequestBody;
  /** Cookies for this request only, sent with the jar's (not on a cross-origin redirect). */
  cookies?: Record<string, string>;
}

type Settings = Required<Omit<ClientCommonOptions, "timeout" | "middlewares" | "skipAutoHeaders">> & {
  timeout: Required<ClientTimeout>;
  middlewares: readonly ClientMiddleware[];
  skipAutoHeaders: ReadonlySet<string>;
};

let sessionCounter = 0;
let undiciModule: Promise<typeof import("undici")> | null = null;
let version: string | null = null;

function aiotsVersion(): string {
  if (version === null) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string };
      version = pkg.version ?? "0";
    } catch {
      version = "0";
    }
  }
  return version;
}

/** The `User-Agent` the client sends unless told otherwise: `aiots/<version>`. @internal */
export function defaultUserAgent(): string {
  return `aiots/${aiotsVersion()}`;
}

/**
 * An HTTP client session (aiohttp.ClientSession): pooled keep-alive connections, default headers,
 * timeouts, TLS settings, redirects, a cookie jar and middlewares. Close it (or `await using`)
 * when done; its keep-alive connections are closed then.
 * @example
 * ```ts
 * import { run, gather } from "aiots";
 * import { ClientSession } from "aiots/http";
 * await run(async () => {
 *   await using session = new ClientSession({ timeout: { total: 10 }, limit: 10 });
 *   const responses = await gather(...[1, 2, 3].map((i) => session.get("http://127.0.0.1:8000/", { params: { i } })));
 *   for (const resp of responses) console.log(resp.status, await resp.json());
 * });
 * ```
 */
export class ClientSession implements AsyncDisposable {
  /** The session's cookie jar: cookies responses set are stored here and sent back to matching URLs. */
  readonly cookieJar: CookieJar;
  // Created on the first request, on that request's loop; null until then.
  #pool: ConnectionPool | null = null;
  #loop: AbstractEventLoop | null = null;
  readonly #baseUrl: URL | null;
  readonly #headers: HeadersInit | undefined;
  readonly #settings: Settings;
  readonly #limit: number;
  readonly #keepaliveTimeout: number;
  readonly #id = ++sessionCounter;
  #closed = false;
  #inFlight = 0; // requests sent whose response headers have not arrived yet

  /** @throws {RangeError} for a bad `limit`, timeout, `maxRedirects` or `maxBodySize`; {TypeError} for a bad `ssl` or `baseUrl`. */
  constructor(options: ClientSessionOptions = {}) {
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`ClientSession limit must be a positive integer (connections per origin), not ${String(limit)}`);
    }
    const keepalive = options.keepaliveTimeout ?? 15;
    if (typeof keepalive !== "number" || !(keepalive > 0) || !Number.isFinite(keepalive)) {
      throw new RangeError(`keepaliveTimeout must be a number of seconds > 0, not ${String(keepalive)} (send "Connection: close" to close after each request)`);
    }
    this.#limit = limit;
    this.#keepaliveTimeout = keepalive;
    this.#settings = resolveSettings(
      {
        timeout: { total: 300, connect: null, sockConnect: null, sockRead: null },
        raiseForStatus: false,
        ssl: true,
        allowRedirects: true,
        maxRedirects: 10,
        autoDecompress: true,
        maxBodySize: null,
        middlewares: [],
        skipAutoHeaders: new Set(),
      },
      options,
    );
    try {
      this.#baseUrl = options.baseUrl === undefined ? null : new URL(options.baseUrl);
    } catch {
      throw new TypeError(`invalid baseUrl ${JSON.stringify(String(options.baseUrl))}: pass an absolute http(s) URL such as "http://127.0.0.1:8000"`);
    }
    this.#headers = options.headers;
    mergeHeaders(options.headers); // validates the names and values now rather than at the first request
    this.cookieJar = options.cookieJar ?? new CookieJar();
    if (options.cookies !== undefined) this.cookieJar.updateCookies(options.cookies);
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends a request and resolves to the response once its headers have arrived, after following
   * redirects (unless `allowRedirects: false`).
   * @throws {TimeoutError} past a timeout; {ClientConnectionError} when connecting or sending
   * fails ({ClientSSLError} for TLS); {ClientPayloadError} for a malformed response;
   * {TooManyRedirects}, {NonHttpUrlRedirectClientError}; {ClientResponseError} with
   * `raiseForStatus`; `CancelledError` (the request is aborted); {TypeError} for a bad URL or
   * options; {Error} if the session is closed.
   */
  async request(method: string, url: string | URL, options: RequestOptions = {}): Promise<ClientResponse> {
    if (this.#closed) throw new Error("this ClientSession is closed: create a new one");
    if (typeof method !== "string" || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(method)) throw new TypeError(`invalid HTTP method ${JSON.stringify(method)}`);
    const loop = getRunningLoop();
    const settings = resolveSettings(this.#settings, options);
    const target = this.#resolveUrl(url, options.params);
    const verb = method.toUpperCase();
    const deadline = settings.timeout.total === null ? null : loop.time() + settings.timeout.total;
    const headers = mergeHeaders(this.#autoHeaders(settings), this.#headers, options.headers);
    const body = encodeBody(options.json, options.data, headers);
    let request = new ClientRequest(verb, target, headers, body);
    if (options.cookies !== undefined) checkCookies(options.cookies);
    let requestCookies = options.cookies;
    const history: ClientResponse[] = [];
    for (;;) {
      const cookies = requestCookies;
      const send: ClientHandler = (req) => this.#send(loop, req, settings, deadline, cookies);
      const chain = settings.middlewares.reduceRight<ClientHandler>((next, middleware) => (req) => middleware(req, next), send);
      const response = await chain(request);
      if (!settings.allowRedirects || !isRedirect(response.status) || !response.headers.has("location")) {
        response.history = history;
        if (settings.raiseForStatus) response.raiseForStatus();
        return response;
      }
      history.push(response);
      // Read the (usually tiny) redirect body so the next hop can reuse the connection.
      await response.readForHistory(64 * 1024);
      const next = followRedirect(request, response, history, settings.maxRedirects);
      if (next.crossOrigin) requestCookies = undefined;
      request = next.request;
    }
  }

  /** `GET url`. @throws as `request()`. */
  get(url: string | URL, options?: RequestOptions): Promise<ClientResponse> {
    return this.request("GET", url, options);
  }

  /** `POST url`. @throws as `request()`. */
  post(url: string | URL, options?: RequestOptions): Promise<ClientResponse> {
    return this.request("POST", url, options);
  }

  /** `PUT url`. @throws as `request()`. */
  put(url: string | URL, options?: RequestOptions): Promise<ClientResponse> {
    return this.request("PUT", url, options);
  }

  /** `PATCH url`. @throws as `request()`. */
  patch(url: string | URL, options?: RequestOptions): Promise<ClientResponse> {
    return this.request("PATCH", url, options);
  }

  /** `DELETE url`. @throws as `request()`. */
  delete(url: string | URL, options?: RequestOptions): Promise<ClientResponse> {
    return this.request("DELETE", url, options);
  }

  /** `HEAD url` (no body; redirects are not followed unless `allowRedirects: true`, as aiohttp). @throws as `request()`. */
  head(url: string | URL, options?: RequestOptions): Promise<ClientResponse> {
    return this.request("HEAD", url, { allowRedirects: false, ...options });
  }

  /** `OPTIONS url`. @throws as `request()`. */
  options(url: string | URL, options?: RequestOptions): Promise<ClientResponse> {
    return this.request("OPTIONS", url, options);
  }

  /** Closes every connection of the pool; requests still running fail. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    resourceClosed(this);
    if (this.#pool !== null) await awaitForeign(this.#pool.close());
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  toString(): string {
    const open = this.#pool?.openConnections ?? 0;
    return `<ClientSession #${this.#id} ${this.#closed ? "closed" : "open"} connections=${open} inFlight=${this.#inFlight}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  async #send(loop: AbstractEventLoop, request: ClientRequest, settings: Settings, deadline: number | null, cookies: Record<string, string> | undefined): Promise<ClientResponse> {
    if (this.#closed) throw new Error("this ClientSession is closed: create a new one");
    const url = request.url;
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError(`ClientSession speaks http: and https:, not ${url.protocol} (${url.href})`);
    const what = `${request.method} ${url.href}`;
    const headers = request.headers.copy();
    const jarCookies = { ...this.cookieJar.filterCookies(url), ...cookies };
    const cookieLine = Object.entries(jarCookies).map(([k, v]) => `${k}=${v}`).join("; ");
    if (cookieLine !== "") headers.set("Cookie", headers.has("cookie") ? `${headers.get("cookie")!}; ${cookieLine}` : cookieLine);
    let body = bodyToSend(request.body, headers, what);
    const { timeout } = settings;
    const started = loop.time();
    const connectDeadline = timeout.connect === null ? null : started + timeout.connect;
    const acquireDeadline = connectDeadline === null ? deadline : deadline === null ? connectDeadline : Math.min(connectDeadline, deadline);
    const pool = await this.#poolFor(loop);
    const ssl = url.protocol === "https:" ? settings.ssl : true;
    this.#inFlight++;
    try {
      for (let attempt = 0; ; attempt++) {
        const conn = await pool.acquire(url.origin, ssl, url.protocol === "https:" ? sslKey(ssl) : "-", acquireDeadline, what);
        const reused = conn.connected;
        conn.sockConnect = timeout.sockConnect;
        const exchange = new Exchange(
          loop,
          pool,
          conn,
          url,
          { origin: url.origin, path: url.pathname + url.search, method: request.method, headers: [...headers], body },
          {
            connect: connectDeadline === null ? null : Math.max(0, connectDeadline - loop.time()),
            connectSetting: timeout.connect,
            sockRead: timeout.sockRead,
            deadline,
            total: timeout.total,
          },
        );
        let head: Awaited<ReturnType<Exchange["head"]>>;
        try {
          head = await exchange.head();
        } catch (error) {
          // A kept-alive connection the server closed just as we reused it: an idempotent request
          // with a body we can send again is retried once on a new connection (as aiohttp does).
          if (attempt === 0 && reused && IDEMPOTENT.has(request.method) && request.body.kind !== "stream" && isStaleConnection(error)) {
            body = bodyToSend(request.body, headers, what);
            continue;
          }
          throw error;
        }
        const setCookies = head.headers.filter(([name]) => name.toLowerCase() === "set-cookie").map(([, value]) => value);
        return new ClientResponse({
          loop,
          method: request.method,
          url,
          head,
          exchange,
          deadline,
          autoDecompress: settings.autoDecompress,
          maxBodySize: settings.maxBodySize,
          cookies: setCookies.length === 0 ? {} : this.cookieJar.storeResponseCookies(setCookies, url),
        });
      }
    } catch (error) {
      throw translateError(error, request.method, url, "connect");
    } finally {
      this.#inFlight--;
    }
  }

  async #poolFor(loop: AbstractEventLoop): Promise<ConnectionPool> {
    if (this.#pool !== null) {
      if (this.#loop !== loop) throw new Error("this ClientSession belongs to another event loop: create one session per loop (per run())");
      return this.#pool;
    }
    const { Client } = await awaitForeign((undiciModule ??= import("undici")));
    if (this.#closed) throw new Error("this ClientSession is closed: create a new one");
    this.#loop ??= loop;
    if (this.#pool === null) {
      this.#pool = new ConnectionPool({ limit: this.#limit, keepaliveTimeout: this.#keepaliveTimeout, loop, ClientClass: Client });
      // Debug mode reports a session still open when its loop closes (aiohttp's "Unclosed client session").
      resourceOpened(this, "ClientSession", loop);
    }
    return this.#pool;
  }

  #autoHeaders(settings: Settings): Record<string, string> {
    const auto: Record<string, string> = {};
    const skip = settings.skipAutoHeaders;
    if (!skip.has("user-agent")) auto["User-Agent"] = defaultUserAgent();
    if (!skip.has("accept")) auto["Accept"] = "*/*";
    if (!skip.has("accept-encoding")) auto["Accept-Encoding"] = DECODINGS.join(", ");
    return auto;
  }

  #resolveUrl(url: string | URL, params: RequestOptions["params"]): URL {
    let target: URL;
    try {
      target = this.#baseUrl === null ? new URL(url) : new URL(url, this.#baseUrl);
    } catch {
      throw new TypeError(`invalid URL ${JSON.stringify(String(url))}: pass an absolute http(s) URL, or set baseUrl on the session`);
    }
    if (target.protocol !== "http:" && target.protocol !== "https:") {
      throw new TypeError(`ClientSession speaks http: and https:, not ${target.protocol} (${target.href})`);
    }
    target.hash = "";
    if (params !== undefined) {
      const entries = params instanceof URLSearchParams ? [...params] : Object.entries(params);
      for (const [key, value] of entries) target.searchParams.append(key, String(value));
    }
    return target;
  }
}

function resolveSettings(base: Settings, options: ClientCommonOptions): Settings {
  const timeout: Record<string, unknown> = { ...base.timeout };
  for (const [name, value] of Object.entries(options.timeout ?? {})) {
    if (!(name in base.timeout)) throw new TypeError(`unknown timeout ${name}: the timeouts are total, connect, sockConnect and sockRead`);
    if (value !== undefined) timeout[name] = value;
  }
  for (const [name, value] of Object.entries(timeout)) {
    if (value === null) continue;
    if (typeof value !== "number" || !(value > 0)) throw new RangeError(`timeout.${name} must be a positive number of seconds or null, not ${String(value)}`);
  }
  const maxRedirects = options.maxRedirects ?? base.maxRedirects;
  if (!Number.isInteger(maxRedirects) || maxRedirects < 0) throw new RangeError(`maxRedirects must be an integer >= 0, not ${String(maxRedirects)}`);
  const maxBodySize = options.maxBodySize === undefined ? base.maxBodySize : options.maxBodySize;
  if (maxBodySize !== null && (!Number.isInteger(maxBodySize) || maxBodySize < 0)) {
    throw new RangeError(`maxBodySize must be a number of bytes >= 0, or null for no limit, not ${String(maxBodySize)}`);
  }
  const ssl = options.ssl ?? base.ssl;
  checkSsl(ssl);
  return {
    timeout: timeout as Required<ClientTimeout>,
    raiseForStatus: options.raiseForStatus ?? base.raiseForStatus,
    ssl,
    allowRedirects: options.allowRedirects ?? base.allowRedirects,
    maxRedirects,
    autoDecompress: options.autoDecompress ?? base.autoDecompress,
    maxBodySize,
    middlewares: options.middlewares ?? base.middlewares,
    skipAutoHeaders: options.skipAutoHeaders === undefined ? base.skipAutoHeaders : new Set(options.skipAutoHeaders.map((h) => h.toLowerCase())),
  };
}

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

function isStaleConnection(error: unknown): boolean {
  if (!(error instanceof ClientConnectionError) || error instanceof ClientSSLError) return false;
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return code === "UND_ERR_SOCKET" || code === "ECONNRESET" || code === "EPIPE";
}

const SSL_FIELDS = new Set(["ca", "cert", "key", "passphrase", "rejectUnauthorized", "servername"]);

function checkSsl(ssl: unknown): asserts ssl is ClientSsl {
  if (typeof ssl === "boolean") return;
  if (ssl !== null && typeof ssl === "object") {
    if (isSecureContext(ssl)) return;
    const unknown = Object.keys(ssl).filter((k) => !SSL_FIELDS.has(k));
    if (unknown.length === 0) return;
    throw new TypeError(`unknown ssl option ${unknown.join(", ")}: ssl takes ca, cert, key, passphrase, rejectUnauthorized and servername (or pass a tls.SecureContext)`);
  }
  throw new TypeError("ssl takes true (verify), false (no verification), a tls.SecureContext, or { ca, cert, key, passphrase, rejectUnauthorized, servername }");
}

const contextIds = new WeakMap<tls.SecureContext, number>();
let contextCounter = 0;

/** A key telling TLS settings apart, so that connections made with one are not reused for another. */
function sslKey(ssl: ClientSsl): string {
  if (ssl === true) return "verify";
  if (ssl === false) return "no-verify";
  if (isSecureContext(ssl)) {
    let id = contextIds.get(ssl);
    if (id === undefined) contextIds.set(ssl, (id = ++contextCounter));
    return `context#${id}`;
  }
  const hash = createHash("sha256");
  for (const field of ["ca", "cert", "key", "passphrase", "rejectUnauthorized", "servername"] as const) {
    const value: unknown = ssl[field];
    hash.update(`${field}:`);
    for (const part of [value ?? ""].flat()) hash.update(typeof part === "string" || Buffer.isBuffer(part) ? part : String(part)).update("\0");
  }
  return `options#${hash.digest("hex").slice(0, 16)}`;
}
