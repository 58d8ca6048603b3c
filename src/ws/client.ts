/**
 * `connect(url, options)`: opens a WebSocket client connection (websockets' `connect`).
 *
 * `connect()` starts the opening handshake at once and returns a `Connect`, which is both
 * awaitable (one connection) and async-iterable (a connection, then a new one each time the loop
 * comes round, retrying transient failures with exponential backoff, as websockets'
 * `async for websocket in connect(uri)`). The handshake is awaited on an aiots Future: cancelling
 * the calling task, or the `openTimeout`, drops the half-open connection.
 * @module
 */
import { WebSocket as RawWebSocket, type ClientOptions } from "ws";
import { getRunningLoop, waitFuture, outsideTasks, CancelledError, TimeoutError, sleep, inspectSymbol } from "../core/index.ts";
import { WebSocket, type ConnectionOptions, type HandshakeRequest } from "./connection.ts";
import { InvalidStatus } from "./errors.ts";
import { clientTlsOptions, deflateOptions, type Compression, type WsSslOption } from "./options.ts";

/** Exponential backoff between reconnection attempts, in seconds (websockets' defaults). */
export interface BackoffOptions {
  /** The first retry waits a random time up to this (default 5), so clients do not reconnect in a herd. */
  initialDelay?: number;
  /** The second retry's delay (default 3.1); each next one is `factor` times longer. */
  minDelay?: number;
  /** The longest delay (default 90). */
  maxDelay?: number;
  /** Growth factor (default 1.618). */
  factor?: number;
}

/** Options of `connect()`. */
export interface ConnectOptions extends ConnectionOptions {
  /** Subprotocols to offer, in order of preference. */
  subprotocols?: string[];
  /** Extra headers for the opening handshake. */
  headers?: Record<string, string>;
  /** The `Origin` header to send (for servers that check it). */
  origin?: string;
  /** Largest message accepted, in bytes (default 1 MiB); a bigger one closes with 1009. `null` for no limit. */
  maxSize?: number | null;
  /** Seconds allowed for the opening handshake (default 10). */
  openTimeout?: number | null;
  /** TLS for `wss:` URLs (see `WsSslOption`); the default verifies against the system CAs. */
  ssl?: WsSslOption;
  /** permessage-deflate (default `"deflate"`, offered with bounded memory); `null` turns it off. */
  compression?: Compression;
  /** Delays between reconnection attempts of `for await (const ws of connect(url))`. */
  backoff?: BackoffOptions;
  /**
   * Decides whether a failed attempt of `for await (const ws of connect(url))` is retried: return
   * `null` to retry, or the error to throw. The default retries network errors, timeouts and HTTP
   * 500, 502, 503 and 504, and throws everything else (a 404, a bad certificate...).
   */
  processException?: (error: unknown) => Error | null | undefined;
}

/**
 * What `connect()` returns: `await` it for one connection, or iterate it to reconnect after
 * transient failures (the connection of the previous iteration is closed when the next begins).
 * @example
 * ```ts
 * import { run } from "aiots";
 * import { connect, ConnectionClosed } from "aiots/ws";
 * await run(async () => {
 *   for await (const ws of connect("ws://127.0.0.1:8000/feed")) {
 *     try {
 *       for await (const message of ws) console.log(message);
 *     } catch (error) {
 *       if (error instanceof ConnectionClosed) continue; // reconnect
 *       throw error;
 *     }
 *   }
 * });
 * ```
 */
export class Connect implements Promise<WebSocket>, AsyncIterable<WebSocket> {
  readonly #url: URL | null;
  readonly #options: ConnectOptions;
  // The attempt started by connect(): what await gives (every time), or the iteration's first.
  readonly #initial: Promise<WebSocket>;
  #initialTaken = false;
  #attempts = 1;

  /** @internal use `connect()`. */
  constructor(url: URL | null, options: ConnectOptions, invalid?: unknown) {
    this.#url = url;
    this.#options = options;
    this.#initial = url === null ? Promise.reject(invalid instanceof Error ? invalid : new Error(String(invalid))) : openConnection(url, options);
    // Whoever takes it sees the rejection; one never taken must not crash the process.
    this.#initial.catch(() => {});
  }

  readonly [Symbol.toStringTag] = "Connect";

  /** `await connect(url)`: the one connection opened by `connect()` (the same one on every await). */
  then<A = WebSocket, B = never>(onfulfilled?: ((ws: WebSocket) => A | PromiseLike<A>) | null, onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    this.#initialTaken = true;
    return this.#initial.then(onfulfilled, onrejected);
  }

  catch<B = never>(onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<WebSocket | B> {
    return this.then(undefined, onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<WebSocket> {
    this.#initialTaken = true;
    return this.#initial.finally(onfinally);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<WebSocket, void, undefined> {
    const processException = this.#options.processException ?? defaultProcessException;
    let delays: Iterator<number> | null = null;
    for (;;) {
      let ws: WebSocket;
      try {
        ws = await this.#attempt();
      } catch (error) {
        if (error instanceof CancelledError) throw error;
        const verdict = processException(error);
        if (verdict !== null && verdict !== undefined) throw verdict;
        delays ??= backoff(this.#options.backoff ?? {});
        await sleep(delays.next().value as number);
        continue;
      }
      delays = null; // connected: the next failure starts the backoff over
      try {
        yield ws;
      } finally {
        await ws.close();
      }
    }
  }

  toString(): string {
    return `<Connect ${this.#url?.href ?? "(invalid)"} attempts=${this.#attempts}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  #attempt(): Promise<WebSocket> {
    if (!this.#initialTaken) {
      this.#initialTaken = true;
      return this.#initial;
    }
    this.#attempts++;
    return this.#url === null ? this.#initial : openConnection(this.#url, this.#options);
  }
}

/**
 * Connects to a WebSocket server. `await connect(url)` resolves to the open connection;
 * `for await (const ws of connect(url))` reconnects after transient failures (see `Connect`).
 * @throws {InvalidStatus} when the server answers the handshake with an HTTP status;
 * {TimeoutError} past `openTimeout`; {Error} when the connection or TLS fails; {TypeError} for a
 * URL that is not `ws:` or `wss:`, or `ssl` with a `ws:` URL; `CancelledError`.
 * @example
 * ```ts
 * import { run } from "aiots";
 * import { connect } from "aiots/ws";
 * await run(async () => {
 *   await using ws = await connect("wss://example.com/feed", { ssl: { ca: process.env.CA_PEM } });
 *   for await (const message of ws) console.log(message);
 * });
 * ```
 */
export function connect(url: string | URL, options: ConnectOptions = {}): Connect {
  let target: URL;
  try {
    target = checkTarget(url, options);
  } catch (error) {
    // Delivered where the connection would be: to the await, or to the iteration.
    return new Connect(null, options, error);
  }
  return new Connect(target, options);
}

function checkTarget(url: string | URL, options: ConnectOptions): URL {
  const target = new URL(url);
  if (target.protocol !== "ws:" && target.protocol !== "wss:") {
    throw new TypeError(`connect() takes a ws: or wss: URL, not ${target.protocol} (${target.href})`);
  }
  if (target.protocol === "ws:" && options.ssl !== undefined && options.ssl !== false) {
    throw new TypeError(`ssl is for wss: URLs; ${target.href} is plain ws: (use wss:// or drop ssl)`);
  }
  // Checked here so a bad option throws at the call, not in the first attempt.
  deflateOptions(options.compression, "client");
  if (options.ssl !== undefined) clientTlsOptions(options.ssl);
  return target;
}

/** websockets' retry rule: network errors, timeouts and 5xx overload statuses are transient. */
function defaultProcessException(error: unknown): Error | null {
  if (error instanceof TimeoutError) return null;
  if (error instanceof InvalidStatus) return [500, 502, 503, 504].includes(error.status) ? null : error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^E[A-Z_]+$/.test(code)) return null;
  return error instanceof Error ? error : new Error(String(error));
}

function* backoff(options: BackoffOptions): Generator<number, never> {
  const { initialDelay = 5, minDelay = 3.1, maxDelay = 90, factor = 1.618 } = options;
  yield Math.random() * initialDelay;
  let delay = minDelay;
  while (delay < maxDelay) {
    yield delay;
    delay *= factor;
  }
  for (;;) yield maxDelay;
}

async function openConnection(target: URL, options: ConnectOptions): Promise<WebSocket> {
  const loop = getRunningLoop();
  const maxSize = options.maxSize === undefined ? 1024 * 1024 : options.maxSize;
  const rawOptions: ClientOptions = {
    ...((target.protocol === "wss:" ? clientTlsOptions(options.ssl ?? true) : {}) as ClientOptions),
    headers: options.headers,
    maxPayload: maxSize === null ? 0 : maxSize,
    perMessageDeflate: deflateOptions(options.compression, "client"),
  };
  if (options.origin !== undefined) rawOptions.origin = options.origin;
  const raw = outsideTasks(() => new RawWebSocket(target, options.subprotocols ?? [], rawOptions));
  const sent = (raw as unknown as { _req: { getHeaders(): Record<string, unknown> } | null })._req?.getHeaders() ?? {};
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(sent)) headers[name] = Array.isArray(value) ? value.join(", ") : String(value);
  const request: HandshakeRequest = { path: `${target.pathname}${target.search}`, headers };
  const opened = loop.createFuture<WebSocket>();
  const settle = (error?: Error): void => {
    if (opened.done()) return;
    // Wrap at once: messages may arrive in the same read as the handshake response.
    if (error === undefined) {
      const socket = (raw as unknown as { _socket: { remoteAddress?: string; remotePort?: number } | null })._socket;
      const remoteAddress: [string, number] | null = socket?.remoteAddress === undefined ? null : [socket.remoteAddress, socket.remotePort ?? 0];
      opened.setResult(new WebSocket(raw, "client", options, loop, { request, remoteAddress }));
    } else {
      opened.setException(error);
    }
  };
  const onOpen = (): void => settle();
  const onError = (error: Error): void => settle(error);
  const onUnexpected = (_req: unknown, res: { statusCode?: number; resume(): void }): void => {
    res.resume();
    settle(new InvalidStatus(res.statusCode ?? 0, target.href));
    raw.terminate();
  };
  raw.once("open", onOpen);
  raw.on("error", onError);
  raw.once("unexpected-response", onUnexpected);
  const openTimeout = options.openTimeout === undefined ? 10 : options.openTimeout;
  try {
    return await waitFuture(opened, {
      deadline: openTimeout === null ? null : loop.time() + openTimeout,
      timeoutMessage: `WebSocket opening handshake with ${target.href} timed out after ${openTimeout}s`,
      onCancel: () => raw.terminate(),
    });
  } catch (error) {
    // A failed handshake can still emit an error later; keep it from crashing the process.
    raw.on("error", () => {});
    if (raw.readyState !== RawWebSocket.CLOSED) raw.terminate();
    throw error;
  } finally {
    raw.off("open", onOpen);
    raw.off("error", onError);
    raw.off("unexpected-response", onUnexpected);
  }
}
