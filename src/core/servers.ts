/**
 * `Server`: the object `loop.createServer()`, `startServer()` and `app.serve()` resolve to.
 *
 * How it works: a `Server` wraps one or more Node `net.Server`s (an `http.Server` is one) that are
 * already listening (or about to). It does not own the accept path of wrapped servers; it only
 * watches their `connection` events to count and close clients. Servers created by aiots itself pass
 * `onConnection`: then accepted sockets go to that callback, and connections accepted while the
 * server is not serving (`startServing: false`, as asyncio's `start_serving=False`) are held paused
 * and handed over by `startServing()`, so clients queue the way they would in the kernel's backlog.
 *
 * Clients are anything with `close()` and `abort()` (a transport, or a raw socket wrapped by the
 * server). `waitClosed()` resolves once `close()` was called and every client is gone, as in
 * asyncio 3.12+.
 * @module
 */
import type { Socket, Server as NetServer, AddressInfo } from "node:net";
import type { AbstractEventLoop } from "./events.ts";
import type { Future } from "./futures.ts";
import { inspectSymbol } from "./internal/inspect.ts";
import { resourceClosed, resourceOpened } from "./internal/resource-tracker.ts";

/** A connection the server tracks: `closeClients()` calls `close()`, `abortClients()` calls `abort()`. */
export interface ServerClient {
  close(): void;
  abort(): void;
}

/** Options of the (internal) `Server` constructor. */
export interface ServerOptions {
  /**
   * Receives every accepted socket while the server is serving. When given, the caller attaches
   * its own clients (`server.attach(client)`); when absent, the server tracks raw sockets itself.
   */
  onConnection?: (socket: Socket) => void;
  /** Serve at once (default `true`). With `false`, connections wait until `startServing()`. */
  startServing?: boolean;
  /** Tell the server about connections from the `connection` event (default: `!onConnection`). */
  trackConnections?: boolean;
}

/**
 * One listening socket of a `Server` (asyncio's `TransportSocket`, read-only view).
 * @example
 * ```ts
 * import { run, startServer } from "aiots";
 * await run(async () => {
 *   await using server = await startServer(async (r, w) => w.close(), "127.0.0.1", 0);
 *   const [host, port] = server.sockets[0]!.getsockname() as [string, number];
 * });
 * ```
 */
export class ServerSocket {
  readonly #netServer: NetServer;
  // Address captured while listening, so getsockname() still answers after close().
  #address: string | AddressInfo | null;

  constructor(netServer: NetServer) {
    this.#netServer = netServer;
    this.#address = netServer.address();
  }

  /** `[host, port]` for TCP, the path for a Unix socket. */
  getsockname(): [string, number] | string {
    const now = this.#netServer.address();
    if (now !== null) this.#address = now;
    const address = this.#address;
    if (address === null) throw new Error("the server socket is not bound yet (it has not started listening)");
    return typeof address === "string" ? address : [address.address, address.port];
  }

  /** `"IPv4"`, `"IPv6"` or `"unix"`. */
  get family(): string {
    const address = this.#address ?? this.#netServer.address();
    if (typeof address === "string") return "unix";
    return address?.family ?? "unknown";
  }

  /** The Node server behind this socket. */
  get netServer(): NetServer {
    return this.#netServer;
  }

  toString(): string {
    const name = this.#address === null ? "unbound" : JSON.stringify(this.getsockname());
    return `<ServerSocket ${this.family} ${name}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

function ignoreError(): void {}

// A raw socket tracked by a wrapping server: close() ends it gracefully, abort() resets it.
class SocketClient implements ServerClient {
  readonly socket: Socket;
  constructor(socket: Socket) {
    this.socket = socket;
  }
  close(): void {
    this.socket.end();
  }
  abort(): void {
    this.socket.destroy();
  }
}

/**
 * A listening server (asyncio.Server): stop it with `close()`, wait with `waitClosed()`, or run it
 * until cancelled with `serveForever()`. Disposing it (`await using`) closes it and waits.
 *
 * Built by `loop.createServer`, `loop.createUnixServer`, `startServer`, `startUnixServer` and the
 * HTTP layer; the constructor is internal (documented for wrappers of Node servers).
 * @example
 * ```ts
 * import { run, startServer } from "aiots";
 * await run(async () => {
 *   await using server = await startServer(async (reader, writer) => {
 *     writer.write(await reader.readLine());
 *     await writer.drain();
 *     writer.close();
 *   }, "127.0.0.1", 8888);
 *   console.log(server.sockets.map((s) => s.getsockname()));
 *   await server.serveForever(); // until the task is cancelled
 * });
 * ```
 */
export class Server implements AsyncDisposable {
  readonly #loop: AbstractEventLoop;
  readonly #netServers: NetServer[];
  readonly #onConnection: ((socket: Socket) => void) | undefined;
  #serving: boolean;
  // Set by close(); never unset. Sockets are reported empty from then on.
  #closed = false;
  // Live clients. The server is fully closed when #closed and this is empty.
  readonly #clients = new Set<ServerClient>();
  // Connections accepted while not serving, delivered by startServing() (only with onConnection).
  #held: Socket[] = [];
  // Futures of waitClosed() callers; null once fully closed (then waitClosed returns at once).
  #waiters: Future<void>[] | null = [];
  #servingForever: Future<void> | null = null;
  readonly #socketViews: ServerSocket[];
  readonly #listener: (socket: Socket) => void;

  /**
   * Wraps already-created Node servers (internal: use `loop.createServer` or `startServer`).
   * @param loop the loop whose futures `waitClosed()` and `serveForever()` use.
   * @param netServers listening (or about to listen) Node servers; `http.Server`s work too.
   * @param options see {@link ServerOptions}.
   * @throws {TypeError} when `netServers` is not an array of Node servers.
   */
  constructor(loop: AbstractEventLoop, netServers: NetServer[], options: ServerOptions = {}) {
    if (!Array.isArray(netServers) || netServers.some((s) => typeof s?.listen !== "function")) {
      throw new TypeError("new Server(loop, netServers) takes an array of net.Server (or http.Server) instances");
    }
    this.#loop = loop;
    this.#netServers = [...netServers];
    this.#onConnection = options.onConnection;
    this.#serving = options.startServing ?? true;
    const track = options.trackConnections ?? options.onConnection === undefined;
    this.#socketViews = this.#netServers.map((s) => new ServerSocket(s));
    this.#listener = (socket) => this.#accepted(socket, track);
    resourceOpened(this, "server", loop);
    for (const s of this.#netServers) s.on("connection", this.#listener);
  }

  #accepted(socket: Socket, track: boolean): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    if (track) {
      const client = new SocketClient(socket);
      this.attach(client);
      socket.once("close", () => this.detach(client));
    }
    if (this.#onConnection === undefined) return;
    if (this.#serving) this.#onConnection(socket);
    else {
      socket.pause();
      // Nobody listens to a held socket yet: a reset meanwhile must not be an uncaught error.
      socket.on("error", ignoreError);
      socket.unref(); // like the listening socket, it must not keep Node alive once the loop is gone
      this.#held.push(socket);
    }
  }

  /** The loop this server belongs to. */
  getLoop(): AbstractEventLoop {
    return this.#loop;
  }

  /** The listening sockets; empty once the server is closed. */
  get sockets(): ServerSocket[] {
    return this.#closed ? [] : [...this.#socketViews];
  }

  /** The Node servers wrapped by this server. */
  get netServers(): readonly NetServer[] {
    return this.#netServers;
  }

  /** True while the server accepts connections. */
  isServing(): boolean {
    return this.#serving && !this.#closed;
  }

  /** How many client connections are open. */
  get activeCount(): number {
    return this.#clients.size;
  }

  /**
   * Registers a client connection so `closeClients()`, `abortClients()` and `waitClosed()` see it.
   * For wrappers that create their own transports; call `detach(client)` when it is gone.
   */
  attach(client: ServerClient): void {
    this.#clients.add(client);
  }

  /** Forgets a client connection; wakes `waitClosed()` when it was the last one after `close()`. */
  detach(client: ServerClient): void {
    if (!this.#clients.delete(client)) return;
    if (this.#closed && this.#clients.size === 0) this.#wakeup();
  }

  /**
   * Starts accepting connections (a no-op when already serving). Connections that arrived while
   * not serving are handed over now.
   * @throws {Error} when the server is closed.
   */
  startServing(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`${this.toString()} is closed: create a new server`));
    if (!this.#serving) this.#serveHeld();
    return Promise.resolve();
  }

  #serveHeld(): void {
    this.#serving = true;
    const held = this.#held;
    this.#held = [];
    for (const socket of held) {
      if (socket.destroyed) continue;
      this.#onConnection?.(socket);
    }
  }

  /**
   * Stops listening. Open connections stay open (close them with `closeClients()` or let them end);
   * `waitClosed()` waits for them. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#serving = false;
    resourceClosed(this);
    for (const s of this.#netServers) {
      s.off("connection", this.#listener);
      // The callback's error (ERR_SERVER_NOT_RUNNING) only says it was not listening: nothing to do.
      if (s.listening) s.close(() => undefined);
    }
    for (const socket of this.#held) socket.destroy();
    this.#held = [];
    const forever = this.#servingForever;
    this.#servingForever = null;
    if (forever !== null && !forever.done()) forever.cancel();
    if (this.#clients.size === 0) this.#wakeup();
  }

  /** Closes every client connection gracefully (buffered data is flushed first). */
  closeClients(): void {
    for (const client of [...this.#clients]) client.close();
  }

  /** Closes every client connection at once, dropping buffered data. */
  abortClients(): void {
    for (const client of [...this.#clients]) client.abort();
  }

  /** Waits until `close()` has been called and every client connection has gone. */
  async waitClosed(): Promise<void> {
    if (this.#waiters === null) return;
    const waiter = this.#loop.createFuture<void>();
    this.#waiters.push(waiter);
    try {
      await waiter;
    } finally {
      // A cancelled wait must not stay in the list.
      const i = this.#waiters?.indexOf(waiter) ?? -1;
      if (i >= 0) this.#waiters?.splice(i, 1);
    }
  }

  /**
   * Serves until the calling task is cancelled, then closes the server and waits for it.
   * @throws {Error} when the server is closed or already serving forever.
   * @throws {CancelledError} when cancelled (always, that is how it ends).
   */
  async serveForever(): Promise<void> {
    if (this.#servingForever !== null) throw new Error(`${this.toString()} is already being awaited on serveForever()`);
    if (this.#closed) throw new Error(`${this.toString()} is closed`);
    await this.startServing();
    const forever = this.#loop.createFuture<void>();
    this.#servingForever = forever;
    try {
      await forever;
    } catch (error) {
      this.close();
      await this.waitClosed();
      throw error;
    } finally {
      if (this.#servingForever === forever) this.#servingForever = null;
    }
  }

  #wakeup(): void {
    const waiters = this.#waiters;
    if (waiters === null) return;
    this.#waiters = null;
    for (const w of waiters) if (!w.done()) w.setResult(undefined);
  }

  /** Closes the server and waits until it is fully closed. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.waitClosed();
  }

  toString(): string {
    const state = this.#closed ? "closed" : this.#serving ? "serving" : "not serving";
    const names = this.#socketViews.map((s) => {
      try {
        return JSON.stringify(s.getsockname());
      } catch {
        return "unbound";
      }
    });
    return `<Server ${state} sockets=[${names.join(", ")}] clients=${this.#clients.size}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}
