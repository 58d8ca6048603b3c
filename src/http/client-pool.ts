/**
 * The client's connection pool: keep-alive connections per origin and TLS setting, at most `limit`
 * per origin, handed out one request at a time.
 *
 * How it works: each pooled connection is an undici `Client` with `pipelining: 1`, so it owns one
 * socket. The pool, not undici, decides which connection a request goes to: a connection is busy
 * from `acquire()` until the exchange on it ends (`release()`), and the next request goes to an
 * idle one, preferring one whose socket is still open. undici's own Pool/Agent picks a client by
 * its drain state, which is updated a tick after a response ends, so back-to-back requests opened a
 * second connection; owning the choice makes sequential requests reuse one socket. When all
 * `limit` connections are busy, `acquire()` waits in FIFO order. Sockets are opened by our own
 * connector (node:net / node:tls) so that the `sockConnect` timeout runs on aiots' loop timers
 * (undici's timers have ~1 s granularity) and TLS failures are recognisable as such.
 * @module
 */
import * as net from "node:net";
import * as tls from "node:tls";
import type { Client } from "undici";
import { type AbstractEventLoop, type Future, TimeoutError, inspectSymbol } from "../core/index.ts";
import { kTlsFailure } from "./client-errors.ts";

/** TLS options of the client's `ssl` (aiohttp's `ssl=`), passed to `tls.connect`. */
export interface ClientSslOptions {
  /** Trusted CA certificates (PEM), replacing Node's bundled roots (add them to `tls.rootCertificates` to extend). */
  ca?: string | Buffer | (string | Buffer)[];
  /** A client certificate chain (PEM) for servers that ask for one. */
  cert?: string | Buffer | (string | Buffer)[];
  /** The client certificate's private key (PEM). */
  key?: string | Buffer | (string | Buffer)[];
  /** The passphrase of an encrypted `key`. */
  passphrase?: string;
  /** Verify the server's certificate (default true); false is `ssl: false`. */
  rejectUnauthorized?: boolean;
  /** The name sent in SNI and checked against the certificate (default: the URL's host). */
  servername?: string;
}

/**
 * The client's `ssl` option: `true` (verify against Node's roots, the default), `false` (no
 * verification), a `tls.SecureContext`, or `ClientSslOptions`.
 */
export type ClientSsl = boolean | tls.SecureContext | ClientSslOptions;

/** One pooled connection: an undici Client owning at most one socket. @internal */
export class PooledConnection {
  readonly client: Client;
  readonly key: string;
  busy = true;
  connected = false;
  /** The `sockConnect` timeout (seconds) of the request that may open this connection's socket. */
  sockConnect: number | null = null;
  /** Sockets this connection opened (1 for a connection kept alive throughout). */
  socketsOpened = 0;

  constructor(client: Client, key: string, onIdleClose: (conn: PooledConnection) => void) {
    this.client = client;
    this.key = key;
    client.on("connect", () => {
      this.connected = true;
      this.socketsOpened++;
    });
    client.on("disconnect", () => {
      this.connected = false;
      // An idle connection whose socket closed (keep-alive timeout, server close) leaves the pool,
      // so a client talking to many origins does not keep one object per origin forever.
      if (!this.busy) onIdleClose(this);
    });
  }
}

interface HostPool {
  connections: PooledConnection[];
  waiters: Future<PooledConnection>[];
}

/** What the pool needs to open connections. @internal */
export interface PoolOptions {
  limit: number;
  keepaliveTimeout: number;
  loop: AbstractEventLoop;
  ClientClass: typeof Client;
}

/** Keep-alive connections per origin and TLS setting. @internal */
export class ConnectionPool {
  readonly #hosts = new Map<string, HostPool>();
  readonly #options: PoolOptions;
  #closed = false;

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  /** Open connections (sockets) across all origins. */
  get openConnections(): number {
    let n = 0;
    for (const host of this.#hosts.values()) for (const c of host.connections) if (c.connected) n++;
    return n;
  }

  /**
   * A connection to `origin` with TLS setting `ssl` (`sslKey` identifies it), marked busy; waits
   * while `limit` connections to that origin are busy.
   * @throws {TimeoutError} past `deadline` (loop time) while waiting; `CancelledError`.
   */
  async acquire(origin: string, ssl: ClientSsl, sslKey: string, deadline: number | null, what: string): Promise<PooledConnection> {
    if (this.#closed) throw new Error("this ClientSession is closed: create a new one");
    const key = `${origin} ${sslKey}`;
    let host = this.#hosts.get(key);
    if (host === undefined) {
      host = { connections: [], waiters: [] };
      this.#hosts.set(key, host);
    }
    let idle: PooledConnection | undefined;
    for (const c of host.connections) {
      if (c.busy) continue;
      if (c.connected) {
        idle = c;
        break;
      }
      idle ??= c;
    }
    if (idle !== undefined) {
      idle.busy = true;
      return idle;
    }
    if (host.connections.length < this.#options.limit) {
      const conn = this.#open(origin, ssl, key);
      host.connections.push(conn);
      return conn;
    }
    const loop = this.#options.loop;
    const waiter = loop.createFuture<PooledConnection>();
    host.waiters.push(waiter);
    const timer =
      deadline === null
        ? null
        : loop.callAt(deadline, () => {
            if (!waiter.done()) {
              waiter.setException(new TimeoutError(`connect timeout waiting for a free connection (limit=${this.#options.limit} per origin) for ${what}`));
            }
          });
    try {
      return await waiter;
    } catch (error) {
      // Cancelled after a release() handed this waiter a connection: give it back, or it is lost.
      if (waiter.done() && !waiter.cancelled() && waiter.exception() === null) this.release(waiter.result());
      throw error;
    } finally {
      timer?.cancel();
      const at = host.waiters.indexOf(waiter);
      if (at >= 0) host.waiters.splice(at, 1);
    }
  }

  /** Marks `conn` idle, or hands it to the oldest waiter. `broken` drops it from the pool. */
  release(conn: PooledConnection, broken = false): void {
    const host = this.#hosts.get(conn.key);
    if (host === undefined || !host.connections.includes(conn)) return;
    if (broken || this.#closed) {
      host.connections.splice(host.connections.indexOf(conn), 1);
      conn.client.destroy().catch(() => {});
      // A slot is free: a waiter gets a fresh connection.
      const next = host.waiters.find((w) => !w.done());
      if (next !== undefined && !this.#closed) {
        const origin = conn.key.slice(0, conn.key.indexOf(" "));
        const replacement = this.#open(origin, this.#sslOf(conn), conn.key);
        host.connections.push(replacement);
        next.setResult(replacement);
      }
      return;
    }
    const next = host.waiters.find((w) => !w.done());
    if (next !== undefined) {
      next.setResult(conn); // stays busy
      return;
    }
    conn.busy = false;
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    this.#closed = true;
    const closing: Promise<void>[] = [];
    for (const host of this.#hosts.values()) {
      for (const w of host.waiters) if (!w.done()) w.setException(new Error("the ClientSession was closed while this request waited for a connection"));
      for (const c of host.connections) closing.push(c.client.destroy().catch(() => {}));
      host.connections.length = 0;
    }
    this.#hosts.clear();
    await Promise.all(closing);
  }

  toString(): string {
    return `<ConnectionPool origins=${this.#hosts.size} open=${this.openConnections}${this.#closed ? " closed" : ""}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  readonly #sslByConnection = new WeakMap<PooledConnection, ClientSsl>();

  #forget(conn: PooledConnection): void {
    const host = this.#hosts.get(conn.key);
    const at = host?.connections.indexOf(conn) ?? -1;
    if (host === undefined || at < 0) return;
    host.connections.splice(at, 1);
    conn.client.destroy().catch(() => {});
    if (host.connections.length === 0 && host.waiters.length === 0) this.#hosts.delete(conn.key);
  }

  #sslOf(conn: PooledConnection): ClientSsl {
    return this.#sslByConnection.get(conn) ?? true;
  }

  #open(origin: string, ssl: ClientSsl, key: string): PooledConnection {
    const { ClientClass, keepaliveTimeout, loop } = this.#options;
    let conn: PooledConnection | null = null;
    const client = new ClientClass(origin, {
      pipelining: 1,
      // A server's `Keep-Alive: timeout=N` may shorten it, never lengthen it past ours.
      keepAliveTimeout: keepaliveTimeout * 1000,
      keepAliveMaxTimeout: keepaliveTimeout * 1000,
      // Our own timers (loop time) handle sockRead; undici's would fire up to a second late.
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: (opts, callback) => openSocket(loop, opts, ssl, conn?.sockConnect ?? null, callback),
    });
    conn = new PooledConnection(client, key, (idle) => this.#forget(idle));
    this.#sslByConnection.set(conn, ssl);
    // Errors reach the request that was running; the client-level event is only noise.
    client.on("connectionError", () => {});
    return conn;
  }
}

/** Whether `value` is a `tls.SecureContext` (Node's object wrapping a native context). */
export function isSecureContext(value: object): value is tls.SecureContext {
  return "context" in value && typeof (value).context === "object" && !("ca" in value) && !("cert" in value);
}

/** The `tls.connect` options for `ssl` and a server named `host`. @internal */
export function tlsConnectOptions(ssl: ClientSsl, host: string): tls.ConnectionOptions {
  const base: tls.ConnectionOptions = { ALPNProtocols: ["http/1.1"] };
  if (!net.isIP(host)) base.servername = host;
  if (ssl === true) return base;
  if (ssl === false) return { ...base, rejectUnauthorized: false };
  if (isSecureContext(ssl)) return { ...base, secureContext: ssl };
  const { ca, cert, key, passphrase, rejectUnauthorized, servername } = ssl;
  const options: tls.ConnectionOptions = { ...base, rejectUnauthorized: rejectUnauthorized ?? true };
  if (ca !== undefined) options.ca = ca;
  if (cert !== undefined) options.cert = cert;
  if (key !== undefined) options.key = key;
  if (passphrase !== undefined) options.passphrase = passphrase;
  if (servername !== undefined) options.servername = servername;
  return options;
}

interface ConnectorOptions {
  hostname: string;
  protocol: string;
  port: string;
}

type ConnectorCallback = (...args: [null, net.Socket] | [Error, null]) => void;

/** An error of the `sockConnect` timeout, turned into aiots' `TimeoutError` by the session. @internal */
export class SockConnectTimeout extends Error {
  readonly code = "AIOTS_SOCK_CONNECT_TIMEOUT";
  readonly seconds: number;
  constructor(seconds: number, host: string, port: number) {
    super(`sockConnect timeout of ${seconds}s connecting to ${host}:${port}`);
    this.seconds = seconds;
  }
}

function openSocket(loop: AbstractEventLoop, opts: ConnectorOptions, ssl: ClientSsl, sockConnect: number | null, callback: ConnectorCallback): void {
  const secure = opts.protocol === "https:";
  const host = opts.hostname.startsWith("[") ? opts.hostname.slice(1, -1) : opts.hostname;
  const port = Number(opts.port) || (secure ? 443 : 80);
  let tcpConnected = false;
  let done = false;
  let socket: net.Socket;
  try {
    socket = secure ? tls.connect({ host, port, ...tlsConnectOptions(ssl, host) }) : net.connect({ host, port });
  } catch (error) {
    // Bad TLS material (an unreadable key or CA) throws here.
    if (error !== null && typeof error === "object") (error as { [kTlsFailure]?: boolean })[kTlsFailure] = true;
    callback(error as Error, null);
    return;
  }
  const timer = sockConnect === null ? null : loop.callLater(sockConnect, () => socket.destroy(new SockConnectTimeout(sockConnect, host, port)));
  const finish = (error: Error | null): void => {
    if (done) return;
    done = true;
    timer?.cancel();
    socket.off("error", onError);
    if (error !== null) {
      socket.destroy();
      callback(error, null);
      return;
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    callback(null, socket);
  };
  const onError = (error: Error): void => {
    if (secure && tcpConnected && !(error instanceof SockConnectTimeout)) (error as { [kTlsFailure]?: boolean })[kTlsFailure] = true;
    finish(error);
  };
  socket.on("error", onError);
  socket.once("connect", () => {
    tcpConnected = true;
    if (!secure) finish(null);
  });
  if (secure) socket.once("secureConnect", () => finish(null));
}
