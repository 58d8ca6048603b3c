/**
 * `Pool` and `createPool()`: asyncpg's connection pool. Connections are opened up to `maxSize`;
 * beyond it `acquire()` waits in FIFO order, and a cancelled waiter takes no connection. A
 * connection comes back usable or not at all: one whose statement was cancelled waits for the
 * server to end it (ReadyForQuery), one with a transaction open is rolled back, one with LISTENs
 * runs UNLISTEN *, and one that is lost or does not settle in time is destroyed and replaced on
 * demand (that is how the pool heals after a server restart).
 * @module
 */
import { CancelledError, getRunningLoop, inspectSymbol, resourceClosed, resourceOpened, waitFuture, type AbstractEventLoop, type Future } from "../core/index.ts";
import { Connection, type Row, type TransactionOptions } from "./connection.ts";
import { InterfaceError } from "./errors.ts";
import { Link } from "./link.ts";
import { checkConnectOptions, checkPoolOptions, checkSeconds, type CheckedConnect, type CheckedPool, type PoolOptions } from "./options.ts";

/**
 * A pool of connections to one PostgreSQL database (asyncpg's `Pool`), made by `createPool()`.
 * `fetch`/`fetchRow`/`fetchVal`/`execute` each run on a connection taken for that one statement;
 * `acquire()` takes one for several (a transaction, LISTEN).
 */
export class Pool {
  readonly #connect: CheckedConnect;
  readonly #sizes: CheckedPool;
  readonly #init: PoolOptions["init"];
  readonly #loop: AbstractEventLoop;
  readonly #links = new Set<Link>();
  readonly #idle: Link[] = [];
  readonly #waiters: Future<Link>[] = [];
  readonly #handedOut = new Set<Connection>();
  readonly #cleaning = new Set<Promise<void>>();
  #opening = 0;
  #closing = false;
  #closed = false;
  #allReturned: Future<void> | null = null;

  /** @internal made by `createPool()`. */
  constructor(connect: CheckedConnect, sizes: CheckedPool, init: PoolOptions["init"], loop: AbstractEventLoop) {
    this.#connect = connect;
    this.#sizes = sizes;
    this.#init = init;
    this.#loop = loop;
  }

  /** @internal opens the first `minSize` connections. */
  async start(): Promise<void> {
    const opened = await Promise.allSettled(Array.from({ length: this.#sizes.minSize }, () => this.#open("createPool()")));
    const failed = opened.find((r) => r.status === "rejected");
    if (failed !== undefined) {
      for (const r of opened) if (r.status === "fulfilled") r.value.destroy();
      this.#links.clear();
      throw failed.reason;
    }
    for (const r of opened) if (r.status === "fulfilled") this.#putIdle(r.value);
    resourceOpened(this, "aiots/pg Pool", this.#loop);
  }

  async #open(who = "acquire()"): Promise<Link> {
    const link = await Link.open(this.#connect, who);
    this.#links.add(link);
    link.onLost = () => this.#forget(link);
    if (this.#init !== undefined) {
      const handle = new Connection(link, async () => {});
      try {
        await this.#init(handle);
      } catch (error) {
        link.destroy();
        throw error;
      } finally {
        await handle.release();
      }
    }
    return link;
  }

  // A link that died (idle or in use) leaves the pool's count; waiters may get a new one.
  #forget(link: Link): void {
    if (!this.#links.delete(link)) return;
    const at = this.#idle.indexOf(link);
    if (at >= 0) this.#idle.splice(at, 1);
    this.#grow();
  }

  /** Connections open now (idle and in use). */
  getSize(): number {
    return this.#links.size;
  }

  /** Idle connections now. */
  getIdleSize(): number {
    return this.#idle.length;
  }

  /** `minSize`. */
  getMinSize(): number {
    return this.#sizes.minSize;
  }

  /** `maxSize`. */
  getMaxSize(): number {
    return this.#sizes.maxSize;
  }

  /** Tasks waiting in `acquire()` now. */
  getWaitingCount(): number {
    return this.#waiters.filter((w) => !w.done()).length;
  }

  /** Whether `close()` or `terminate()` was called. */
  isClosing(): boolean {
    return this.#closing;
  }

  /**
   * Takes a connection: an idle one, a new one while fewer than `maxSize` are open, else the first
   * one given back after every earlier waiter got theirs (FIFO). Cancelling the waiting task takes
   * its place out of the queue; it takes no connection. Give it back with `release()` or `await using`.
   * @throws {InterfaceError} when the pool is closed, or a new connection cannot be opened (naming the server).
   * @throws {PostgresError} when the server refuses the login.
   * @example
   * ```ts
   * import { run } from "aiots";
   * import { createPool } from "aiots/pg";
   * await run(async () => {
   *   await using pool = await createPool({ dsn: "postgresql://postgres@127.0.0.1:5432/postgres", maxSize: 2 });
   *   await using conn = await pool.acquire();
   *   console.log(await conn.fetchVal("select 'held'")); // held
   * });
   * ```
   */
  async acquire(): Promise<Connection> {
    if (this.#closing) throw new InterfaceError("acquire(): the pool is closed (or closing); create a new pool with createPool()");
    this.#pruneIdle();
    const link = this.#idle.pop() ?? (await this.#wait());
    const conn: Connection = new Connection(link, (l): Promise<void> => this.#giveBack(conn, l));
    this.#handedOut.add(conn);
    return conn;
  }

  async #wait(): Promise<Link> {
    const fut = this.#loop.createFuture<Link>();
    this.#waiters.push(fut);
    this.#grow();
    try {
      return await waitFuture(fut);
    } catch (error) {
      const at = this.#waiters.indexOf(fut);
      if (at >= 0) this.#waiters.splice(at, 1);
      // Handed a connection just as the cancel landed: it goes to the next waiter.
      if (fut.done() && !fut.cancelled() && fut.exception() === null) this.#put(fut.result());
      throw error;
    }
  }

  // Opens connections for waiters while there is room.
  #grow(): void {
    if (this.#closing) return;
    for (;;) {
      const waiting = this.getWaitingCount();
      if (waiting <= this.#opening || this.#links.size + this.#opening >= this.#sizes.maxSize) return;
      if (this.#idle.length > 0) {
        this.#put(this.#idle.pop()!);
        continue;
      }
      this.#opening++;
      this.#open().then(
        (link) => {
          this.#opening--;
          this.#put(link);
        },
        (error: unknown) => {
          this.#opening--;
          const waiter = this.#waiters.find((w) => !w.done());
          if (waiter !== undefined) {
            this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
            waiter.setException(error);
          }
          this.#grow();
        },
      );
    }
  }

  // Hands a clean link to the first waiter, else makes it idle.
  #put(link: Link): void {
    if (link.lost !== null) {
      this.#drop(link);
      return;
    }
    if (this.#closing) {
      this.#links.delete(link);
      void link.close();
      return;
    }
    while (this.#waiters.length > 0) {
      const waiter = this.#waiters.shift()!;
      if (!waiter.done()) {
        waiter.setResult(link);
        return;
      }
    }
    this.#putIdle(link);
  }

  #putIdle(link: Link): void {
    link.idleSince = this.#loop.time();
    this.#idle.push(link);
  }

  // Closes idle links above minSize that have been idle for maxInactiveConnectionLifetime.
  #pruneIdle(): void {
    const lifetime = this.#sizes.maxInactive;
    if (lifetime === 0 || this.#idle.length === 0) return;
    const now = this.#loop.time();
    while (this.#idle.length > 0 && this.#links.size > this.#sizes.minSize && now - this.#idle[0]!.idleSince > lifetime) {
      const link = this.#idle.shift()!;
      this.#links.delete(link);
      void link.close();
    }
  }

  #drop(link: Link): void {
    this.#links.delete(link);
    link.destroy();
    this.#grow();
  }

  #giveBack(conn: Connection, link: Link): Promise<void> {
    this.#handedOut.delete(conn);
    if (link.isClean()) {
      this.#put(link);
    } else if (link.lost !== null) {
      this.#drop(link);
    } else {
      // Cleaned in the background (bounded by the link): the releasing task need not wait.
      const cleaning = link.reset().then((ok) => {
        this.#cleaning.delete(cleaning);
        if (ok) this.#put(link);
        else this.#drop(link);
        this.#checkReturned();
      });
      this.#cleaning.add(cleaning);
    }
    this.#checkReturned();
    return Promise.resolve();
  }

  #checkReturned(): void {
    if (this.#allReturned !== null && this.#handedOut.size === 0 && this.#cleaning.size === 0 && !this.#allReturned.done()) this.#allReturned.setResult();
  }

  async #withConnection<T>(fn: (conn: Connection) => Promise<T>): Promise<T> {
    const conn = await this.acquire();
    try {
      return await fn(conn);
    } finally {
      await conn.release();
    }
  }

  /**
   * `fetch` on a connection taken for this one query: all rows as objects.
   * @throws as `Connection.fetch` and `acquire`.
   * @example
   * ```ts
   * import { run } from "aiots";
   * import { createPool } from "aiots/pg";
   * await run(async () => {
   *   await using pool = await createPool("postgresql://postgres@127.0.0.1:5432/postgres");
   *   const rows = await pool.fetch<{ n: number }>("select generate_series(1, $1::int) as n", 3);
   *   console.log(rows.map((r) => r.n)); // [ 1, 2, 3 ]
   * });
   * ```
   */
  fetch<R extends object = Row>(sql: string, ...args: unknown[]): Promise<R[]> {
    return this.#withConnection((conn) => conn.fetch<R>(sql, ...args));
  }

  /**
   * `fetchRow` on a connection taken for this one query: the first row or `null`.
   * @throws as `Connection.fetch` and `acquire`.
   */
  fetchRow<R extends object = Row>(sql: string, ...args: unknown[]): Promise<R | null> {
    return this.#withConnection((conn) => conn.fetchRow<R>(sql, ...args));
  }

  /**
   * `fetchVal` on a connection taken for this one query: the first column of the first row or `null`.
   * @throws as `Connection.fetch` and `acquire`.
   */
  fetchVal<T = unknown>(sql: string, ...args: unknown[]): Promise<T | null> {
    return this.#withConnection((conn) => conn.fetchVal<T>(sql, ...args));
  }

  /**
   * `execute` on a connection taken for this one statement: the command status (`"INSERT 0 1"`).
   * @throws as `Connection.fetch` and `acquire`.
   */
  execute(sql: string, ...args: unknown[]): Promise<string> {
    return this.#withConnection((conn) => conn.execute(sql, ...args));
  }

  /**
   * `transaction(body)` on a connection taken for it (asyncpg: `async with pool.acquire() as c, c.transaction()`).
   * @throws as `Connection.transaction` and `acquire`.
   */
  transaction<T>(body: (tx: Connection) => Promise<T> | T, options?: TransactionOptions): Promise<T> {
    return this.#withConnection((conn) => conn.transaction(body, options));
  }

  /**
   * Closes the pool: new `acquire()` calls fail, waiting ones fail with `InterfaceError`; waits up
   * to `timeout` seconds (default 10) for connections in use to be released, then cancels what
   * still runs on the server and closes every connection (connections still held become
   * unusable). Never hangs past that bound. Idempotent. Cancelling `close()` terminates at once.
   * @throws {RangeError} when `timeout` is not a positive number.
   */
  async close(timeout = 10): Promise<void> {
    checkSeconds(timeout, "timeout", "Pool.close()");
    if (this.#closed) return;
    this.#beginClosing();
    if (this.#handedOut.size > 0 || this.#cleaning.size > 0) {
      this.#allReturned = this.#loop.createFuture<void>();
      this.#checkReturned();
      try {
        await waitFuture(this.#allReturned, { deadline: this.#loop.time() + timeout });
      } catch (error) {
        // Past the timeout, what is still in use is terminated; a cancelled close() terminates too, and says so.
        if (error instanceof CancelledError) {
          void this.#terminateAll();
          throw error;
        }
      }
    }
    await this.#terminateAll();
  }

  /** Closes every connection now, cancelling running statements on the server (asyncpg's `terminate()`). */
  terminate(): void {
    this.#beginClosing();
    void this.#terminateAll();
  }

  #beginClosing(): void {
    if (this.#closing) return;
    this.#closing = true;
    resourceClosed(this);
    for (const waiter of this.#waiters.splice(0)) {
      if (!waiter.done()) waiter.setException(new InterfaceError("acquire(): the pool was closed while this task waited for a connection"));
    }
  }

  async #terminateAll(): Promise<void> {
    this.#closed = true;
    const links = [...this.#links];
    this.#links.clear();
    this.#idle.length = 0;
    await Promise.all(links.map((link) => {
      if (!link.isClean()) {
        link.cancelRunning();
        link.destroy();
        return Promise.resolve();
      }
      return link.close();
    }));
  }

  /** `await using pool = await createPool(...)` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** A short description for logs. */
  toString(): string {
    const state = this.#closed ? "closed" : this.#closing ? "closing" : "open";
    return `<Pool ${state} ${this.#connect.shown} size=${this.#links.size} idle=${this.#idle.length} min=${this.#sizes.minSize} max=${this.#sizes.maxSize} waiting=${this.getWaitingCount()}>`;
  }

  /** @internal util.inspect shows `toString()`. */
  [inspectSymbol](): string {
    return this.toString();
  }
}

/**
 * Creates a pool and opens its first `minSize` connections (asyncpg's `create_pool`). Pass a DSN
 * or options `{ dsn, minSize, maxSize, ... }`.
 * @throws {TypeError} / {RangeError} for a bad DSN or options, saying what to write.
 * @throws {InterfaceError} naming the server when it cannot be reached within `connectTimeout`.
 * @throws {PostgresError} when the server refuses the login.
 * @example
 * ```ts
 * import { run } from "aiots";
 * import { createPool } from "aiots/pg";
 * await run(async () => {
 *   await using pool = await createPool({ dsn: "postgresql://postgres@127.0.0.1:5432/postgres", minSize: 1, maxSize: 4 });
 *   console.log(await pool.fetchVal("select $1::text", "hi")); // hi
 * });
 * ```
 */
export async function createPool(options: string | PoolOptions): Promise<Pool> {
  const connect = checkConnectOptions(options, "createPool()");
  const poolOptions = typeof options === "string" ? {} : options;
  const sizes = checkPoolOptions(poolOptions, "createPool()");
  const pool = new Pool(connect, sizes, poolOptions.init, getRunningLoop());
  await pool.start();
  return pool;
}
