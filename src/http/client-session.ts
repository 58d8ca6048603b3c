/**
 * `ClientSession`: aiohttp's client session on undici's connection pool.
 *
 * How it works: one undici `Agent` per session keeps keep-alive connections per origin, at most
 * `limit` of them. A request is awaited through an aiots Future racing the session's `total`
 * deadline, so cancelling the calling task (or the deadline) aborts the undici request, which
 * closes that connection rather than reusing a half-finished one. `connect` and `sockRead` map to
 * undici's connect timeout and headers/body timeouts, and surface as aiots `TimeoutError`. undici
 * is loaded on a session's first request, so servers that never use the client do not pay for it.
 * @module
 */
import { Readable } from "node:stream";
import type { Agent } from "undici";
import { getRunningLoop, awaitForeign, inspectSymbol } from "../core/index.ts";
import { ClientResponse } from "./client-response.ts";
import { translateError } from "./client-errors.ts";

/** Timeouts in seconds (aiohttp.ClientTimeout); `null` or absent means none. */
export interface ClientTimeout {
  /** The whole operation: connecting, sending, and reading the response body. */
  total?: number | null;
  /** Establishing a new connection. */
  connect?: number | null;
  /** Silence between two reads from the socket (headers, then each body chunk). */
  sockRead?: number | null;
}

/** Options of `new ClientSession(...)`. */
export interface ClientSessionOptions {
  /** Prefix for relative request URLs (`session.get("/path")`). */
  baseUrl?: string | URL;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** Default timeouts; aiohttp's default is `{ total: 300 }`. */
  timeout?: ClientTimeout;
  /** Most connections open at once per origin (aiohttp's `limit`, default 100). */
  limit?: number;
  /** Seconds an idle keep-alive connection is kept (default 15). */
  keepaliveTimeout?: number;
  /** Call `raiseForStatus()` on every response. */
  raiseForStatus?: boolean;
}

/** A request body: bytes, text, or a stream of chunks (uploaded as it is produced). */
export type RequestBody = string | Uint8Array | AsyncIterable<Uint8Array | string> | Readable;

/** Options of one request. */
export interface RequestOptions {
  /** Query parameters, appended to the URL's own. */
  params?: Record<string, string | number | boolean> | URLSearchParams;
  /** Extra headers for this request. */
  headers?: Record<string, string>;
  /** A value sent as JSON (`content-type: application/json`). */
  json?: unknown;
  /** A form (`application/x-www-form-urlencoded`) or a raw body. */
  data?: Record<string, string> | URLSearchParams | RequestBody;
  /** Per-request timeouts, merged over the session's. */
  timeout?: ClientTimeout;
  /** Overrides the session's `raiseForStatus`. */
  raiseForStatus?: boolean;
}

let sessionCounter = 0;

let undiciModule: Promise<typeof import("undici")> | null = null;

function loadUndici(): Promise<typeof import("undici")> {
  return (undiciModule ??= import("undici"));
}

/**
 * An HTTP client session (aiohttp.ClientSession): pooled keep-alive connections, default headers
 * and timeouts. Close it (or `await using`) when done; pending keep-alive sockets are closed then.
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
  // Created on the first request (undici is loaded then); null until then.
  #agent: Agent | null = null;
  readonly #agentOptions: ConstructorParameters<typeof Agent>[0];
  readonly #baseUrl: URL | null;
  readonly #headers: Record<string, string>;
  readonly #timeout: ClientTimeout;
  readonly #raiseForStatus: boolean;
  readonly #id = ++sessionCounter;
  #closed = false;
  #inFlight = 0; // requests sent whose response headers have not arrived yet

  constructor(options: ClientSessionOptions = {}) {
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`ClientSession limit must be a positive integer (connections per origin), not ${String(limit)}`);
    }
    this.#timeout = { total: 300, ...options.timeout };
    checkTimeout(this.#timeout);
    this.#baseUrl = options.baseUrl === undefined ? null : new URL(options.baseUrl);
    this.#headers = { ...options.headers };
    this.#raiseForStatus = options.raiseForStatus ?? false;
    const connect = this.#timeout.connect;
    this.#agentOptions = {
      connections: limit,
      keepAliveTimeout: (options.keepaliveTimeout ?? 15) * 1000,
      connect: connect == null ? {} : { timeout: connect * 1000 },
    };
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends a request and resolves to the response once its headers have arrived.
   * @throws {TimeoutError} past a timeout; {ClientConnectionError} when connecting or sending fails;
   * {ClientResponseError} with `raiseForStatus`; `CancelledError` (the request is aborted);
   * {TypeError} for a bad URL or options; {Error} if the session is closed.
   */
  async request(method: string, url: string | URL, options: RequestOptions = {}): Promise<ClientResponse> {
    if (this.#closed) throw new Error("this ClientSession is closed: create a new one");
    const target = this.#resolveUrl(url, options.params);
    const timeout = { ...this.#timeout, ...options.timeout };
    checkTimeout(timeout);
    const loop = getRunningLoop();
    const deadline = timeout.total == null ? null : loop.time() + timeout.total;
    const headers: Record<string, string> = { ...this.#headers, ...options.headers };
    const body = encodeBody(options, headers);
    const controller = new AbortController();
    const sockRead = timeout.sockRead == null ? 0 : timeout.sockRead * 1000;
    const verb = method.toUpperCase();
    const agent = this.#agent ?? (await this.#createAgent());
    this.#inFlight++;
    let data: Awaited<ReturnType<Agent["request"]>>;
    try {
      data = await awaitForeign(
        agent.request({
          origin: target.origin,
          path: target.pathname + target.search,
          method: verb,
          headers,
          body: body as string,
          signal: controller.signal,
          headersTimeout: sockRead,
          bodyTimeout: sockRead,
        }),
        {
          deadline,
          timeoutMessage: `total timeout of ${timeout.total}s for ${verb} ${target.href}`,
          onCancel: () => controller.abort(),
        },
      );
    } catch (error) {
      throw translateError(error, verb, target);
    } finally {
      this.#inFlight--;
    }
    const response = new ClientResponse({
      method: verb,
      url: target,
      status: data.statusCode,
      headers: data.headers,
      body: data.body,
      controller,
      deadline,
    });
    if (options.raiseForStatus ?? this.#raiseForStatus) response.raiseForStatus();
    return response;
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

  /** `HEAD url` (no body). @throws as `request()`. */
  head(url: string | URL, options?: RequestOptions): Promise<ClientResponse> {
    return this.request("HEAD", url, options);
  }

  /**
   * Closes every connection of the pool. Requests still running are aborted. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#agent !== null) await awaitForeign(this.#agent.destroy());
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  toString(): string {
    return `<ClientSession #${this.#id} ${this.#closed ? "closed" : "open"} inFlight=${this.#inFlight}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  async #createAgent(): Promise<Agent> {
    const { Agent } = await awaitForeign(loadUndici());
    if (this.#closed) throw new Error("this ClientSession is closed: create a new one");
    this.#agent ??= new Agent(this.#agentOptions);
    return this.#agent;
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
    if (params !== undefined) {
      const entries = params instanceof URLSearchParams ? [...params] : Object.entries(params);
      for (const [key, value] of entries) target.searchParams.append(key, String(value));
    }
    return target;
  }
}

function checkTimeout(timeout: ClientTimeout): void {
  for (const [name, value] of Object.entries(timeout)) {
    if (value === null || value === undefined) continue;
    if (typeof value !== "number" || !(value > 0)) {
      throw new RangeError(`timeout.${name} must be a positive number of seconds or null, not ${String(value)}`);
    }
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === "function";
}

function setDefault(headers: Record<string, string>, name: string, value: string): void {
  if (!Object.keys(headers).some((key) => key.toLowerCase() === name)) headers[name] = value;
}

function encodeBody(options: RequestOptions, headers: Record<string, string>): unknown {
  if (options.json !== undefined && options.data !== undefined) {
    throw new TypeError("pass either json or data to a request, not both");
  }
  if (options.json !== undefined) {
    setDefault(headers, "content-type", "application/json");
    return JSON.stringify(options.json);
  }
  const data = options.data;
  if (data === undefined) return undefined;
  if (typeof data === "string" || data instanceof Uint8Array) {
    if (typeof data === "string") setDefault(headers, "content-type", "text/plain; charset=utf-8");
    return data;
  }
  if (data instanceof Readable || isAsyncIterable(data)) return data;
  if (data instanceof URLSearchParams || typeof data === "object") {
    setDefault(headers, "content-type", "application/x-www-form-urlencoded");
    return new URLSearchParams(data as Record<string, string>).toString();
  }
  throw new TypeError("data must be a string, bytes, an async iterable of chunks, a form object or URLSearchParams");
}
