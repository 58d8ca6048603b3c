/**
 * `Connection`: asyncpg's connection methods on one link — `fetch`, `fetchRow`, `fetchVal`,
 * `execute`, `transaction(body)` and `listen(channel)` — as handed out by `pool.acquire()` or
 * opened by `connect()`.
 *
 * Why a handle over the link: once released, a handle refuses further use (asyncpg does the same),
 * so code that kept a reference can never run statements on a connection another task now holds.
 * @module
 */
import { getRunningLoop, inspectSymbol, resourceClosed, resourceOpened, waitFuture, type Future } from "../core/index.ts";
import { ConnectionDoesNotExistError, InterfaceError } from "./errors.ts";
import { Link, type Notification } from "./link.ts";
import { checkConnectOptions, type ConnectOptions } from "./options.ts";

/** Options of `transaction()` (asyncpg's names). */
export interface TransactionOptions {
  /** Isolation level of the outermost transaction (default: the server's, normally read committed). */
  isolation?: "read_committed" | "repeatable_read" | "serializable" | "read_uncommitted";
  /** `READ ONLY` (default false). */
  readonly?: boolean;
  /** `DEFERRABLE` (with serializable read-only; default false). */
  deferrable?: boolean;
}

/** A row as an object keyed by column name, the default row type. */
export type Row = Record<string, unknown>;

function beginStatement(options: TransactionOptions): string {
  const parts = ["BEGIN"];
  if (options.isolation !== undefined) {
    const levels = { read_committed: "READ COMMITTED", repeatable_read: "REPEATABLE READ", serializable: "SERIALIZABLE", read_uncommitted: "READ UNCOMMITTED" };
    const level = levels[options.isolation];
    if (level === undefined) throw new TypeError(`transaction(): isolation must be one of ${Object.keys(levels).join(", ")}, got ${JSON.stringify(options.isolation)}`);
    parts.push(`ISOLATION LEVEL ${level}`);
  }
  if (options.readonly === true) parts.push("READ ONLY");
  if (options.deferrable === true) parts.push("DEFERRABLE");
  return parts.join(" ");
}

/** `"name"` with inner quotes doubled: an identifier in SQL. */
function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * One connection to PostgreSQL, from `pool.acquire()` (give it back with `release()` or `await
 * using`) or `connect()` (close it with `close()` or `await using`). One statement runs at a
 * time; cancelling the task awaiting it cancels it on the server.
 * @example
 * ```ts
 * import { run } from "aiots";
 * import { connect } from "aiots/pg";
 * await run(async () => {
 *   await using conn = await connect("postgresql://postgres@127.0.0.1:5432/postgres");
 *   console.log(await conn.fetchVal<number>("select 1 + $1::int", 41)); // 42
 * });
 * ```
 */
export class Connection {
  #link: Link | null;
  readonly #release: (link: Link) => Promise<void>;
  readonly #iterators = new Set<ListenIterator>();

  /** @internal made by the pool and `connect()`. */
  constructor(link: Link, release: (link: Link) => Promise<void>) {
    this.#link = link;
    this.#release = release;
  }

  #live(who: string): Link {
    const link = this.#link;
    if (link === null) throw new InterfaceError(`${who}: this connection was released back to the pool (or closed); acquire a new one`);
    return link;
  }

  /**
   * Runs a query and returns all its rows as objects keyed by column name; `$1`, `$2`... take
   * `args` in order. `Row` types the rows (nothing checks it at run time).
   * @throws {PostgresError} what the server reported (syntax, constraint, ...), with `sqlstate`.
   * @throws {CancelledError} when the awaiting task is cancelled; the query is cancelled on the server.
   * @throws {ConnectionDoesNotExistError} when the connection was lost.
   * @throws {InterfaceError} when the connection was released, or another query of it is running.
   */
  async fetch<R extends object = Row>(sql: string, ...args: unknown[]): Promise<R[]> {
    return (await this.#live("fetch").run(sql, args, "objects", "fetch")).rows as R[];
  }

  /**
   * Runs a query and returns its first row, or `null` when there is none.
   * @throws as `fetch`.
   */
  async fetchRow<R extends object = Row>(sql: string, ...args: unknown[]): Promise<R | null> {
    return ((await this.#live("fetchRow").run(sql, args, "objects", "fetchRow")).rows[0] as R | undefined) ?? null;
  }

  /**
   * Runs a query and returns the first column of its first row, or `null` when there is no row.
   * @throws as `fetch`.
   */
  async fetchVal<T = unknown>(sql: string, ...args: unknown[]): Promise<T | null> {
    const rows = (await this.#live("fetchVal").run(sql, args, "arrays", "fetchVal")).rows as unknown[][];
    return (rows[0]?.[0] as T | undefined) ?? null;
  }

  /**
   * Runs a statement and returns its command status, such as `"INSERT 0 1"` or `"CREATE TABLE"`.
   * Without `args`, `sql` may hold several statements separated by `;` (the last one's status is
   * returned), as in asyncpg.
   * @throws as `fetch`.
   */
  async execute(sql: string, ...args: unknown[]): Promise<string> {
    return (await this.#live("execute").run(sql, args, "objects", "execute")).status;
  }

  /**
   * Runs `body` in a transaction: BEGIN, then COMMIT when it returns (resolving to its value), or
   * ROLLBACK when it throws or its task is cancelled (the error is rethrown). Called inside
   * another `transaction()` on the same connection it is a SAVEPOINT, rolled back alone.
   * @throws {InterfaceError} when the server rolled back at COMMIT because a statement failed and its
   * error was caught in the body (use a nested `transaction()` to recover from an error).
   * @throws whatever `body` throws, after the rollback.
   * @example
   * ```ts
   * import { run } from "aiots";
   * import { createPool } from "aiots/pg";
   * await run(async () => {
   *   await using pool = await createPool("postgresql://postgres@127.0.0.1:5432/postgres");
   *   await using conn = await pool.acquire();
   *   const id = await conn.transaction(async (tx) => tx.fetchVal<number>("select 7"));
   *   console.log(id); // 7
   * });
   * ```
   */
  async transaction<T>(body: (tx: Connection) => Promise<T> | T, options: TransactionOptions = {}): Promise<T> {
    if (typeof body !== "function") throw new TypeError("transaction() takes a function: conn.transaction(async (tx) => { ... })");
    const link = this.#live("transaction");
    const depth = link.txDepth;
    const savepoint = `aiots_savepoint_${depth + 1}`;
    const begin = depth === 0 ? beginStatement(options) : `SAVEPOINT ${savepoint}`;
    link.txDepth = depth + 1;
    try {
      let value: T;
      try {
        await link.run(begin, [], "objects", "transaction");
        value = await body(this);
        const status = (await link.run(depth === 0 ? "COMMIT" : `RELEASE SAVEPOINT ${savepoint}`, [], "objects", "transaction")).status;
        if (depth === 0 && status === "ROLLBACK") {
          throw new InterfaceError("transaction: the server rolled the transaction back at COMMIT because a statement in it failed (its error was caught inside the body); wrap statements that may fail in a nested transaction() to roll back only them");
        }
      } catch (error) {
        await this.#rollback(link, depth, savepoint);
        throw error;
      }
      return value;
    } finally {
      link.txDepth = depth;
    }
  }

  // Not cancellable (a plain promise, bounded by the link): a cancelled task must still roll back.
  async #rollback(link: Link, depth: number, savepoint: string): Promise<void> {
    if (link.lost !== null) return;
    try {
      if (depth === 0) {
        await link.control("ROLLBACK", "transaction");
      } else {
        await link.control(`ROLLBACK TO SAVEPOINT ${savepoint}`, "transaction");
        await link.control(`RELEASE SAVEPOINT ${savepoint}`, "transaction");
      }
    } catch {
      // control() destroyed the link: the server ends the transaction with the session.
    }
  }

  /**
   * LISTENs on `channel` and yields each notification `{ channel, payload, pid }`; breaking out of
   * the `for await` loop (or `return()`) UNLISTENs. Notifications arrive between statements, so the
   * connection stays usable for queries meanwhile.
   * @throws {ConnectionDoesNotExistError} from the iteration when the connection is lost.
   * @example
   * ```ts
   * import { run, createTask } from "aiots";
   * import { createPool } from "aiots/pg";
   * await run(async () => {
   *   await using pool = await createPool({ dsn: "postgresql://postgres@127.0.0.1:5432/postgres", minSize: 1 });
   *   await using conn = await pool.acquire();
   *   const events = conn.listen("jobs");
   *   await events.ready;
   *   createTask(() => pool.execute("select pg_notify('jobs', 'hello')"));
   *   for await (const n of events) {
   *     console.log(n.payload); // hello
   *     break;
   *   }
   * });
   * ```
   */
  listen(channel: string): ListenIterator {
    if (typeof channel !== "string" || channel === "") throw new TypeError(`listen(): the channel must be a non-empty string, got ${JSON.stringify(channel)}`);
    const iterator = new ListenIterator(this.#live("listen"), channel, this.#iterators);
    this.#iterators.add(iterator);
    return iterator;
  }

  /** Backend process ID (`pg_backend_pid()`), e.g. to find this session in pg_stat_activity. */
  get pid(): number {
    return this.#live("pid").pid;
  }

  /** Whether the connection was released or closed. */
  get released(): boolean {
    return this.#link === null;
  }

  /**
   * Gives the connection back to its pool (for `connect()`'s: closes it). Idempotent. A connection
   * whose last statement was cancelled, or with a transaction open, is cleaned up (or discarded)
   * before anyone gets it again.
   */
  async release(): Promise<void> {
    const link = this.#link;
    if (link === null) return;
    this.#link = null;
    for (const iterator of [...this.#iterators]) iterator.detach();
    await this.#release(link);
  }

  /** Same as `release()`. */
  close(): Promise<void> {
    return this.release();
  }

  /** `await using conn = await pool.acquire()` releases it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  /** A short description for logs. */
  toString(): string {
    const link = this.#link;
    return link === null ? "<Connection released>" : `<Connection pid=${link.pid} ${link.lost === null ? (link.txStatus === "I" ? "idle" : "in transaction") : "lost"}>`;
  }

  /** @internal util.inspect shows `toString()`. */
  [inspectSymbol](): string {
    return this.toString();
  }
}

/**
 * The async iterable `conn.listen(channel)` returns. `ready` resolves once LISTEN ran (a
 * notification sent after that is seen); iteration starts it too.
 */
export class ListenIterator implements AsyncIterableIterator<Notification>, AsyncDisposable {
  readonly #link: Link;
  readonly #channel: string;
  readonly #owners: Set<ListenIterator>;
  readonly #buffer: Notification[] = [];
  #waiter: Future<void> | null = null;
  #started: Promise<void> | null = null;
  #done = false;
  readonly #onEvent = (n: Notification | null): void => {
    if (n !== null && n.channel !== this.#channel) return;
    if (n !== null) this.#buffer.push(n);
    const waiter = this.#waiter;
    this.#waiter = null;
    if (waiter !== null && !waiter.done()) waiter.setResult();
  };

  /** @internal made by `Connection.listen()`. */
  constructor(link: Link, channel: string, owners: Set<ListenIterator>) {
    this.#link = link;
    this.#channel = channel;
    this.#owners = owners;
    link.listeners.add(this.#onEvent);
  }

  /** The channel listened on. */
  get channel(): string {
    return this.#channel;
  }

  /**
   * Resolves once the server runs LISTEN for this channel.
   * @throws as `Connection.execute`.
   */
  get ready(): Promise<void> {
    if (this.#started === null) {
      this.#link.listened = true;
      this.#started = this.#link.run(`LISTEN ${quoteIdent(this.#channel)}`, [], "objects", "listen").then(() => undefined);
    }
    return this.#started;
  }

  /**
   * The next notification; waits (cancellably) until one arrives.
   * @throws {ConnectionDoesNotExistError} when the connection is lost.
   */
  async next(): Promise<IteratorResult<Notification>> {
    if (this.#done) return { done: true, value: undefined };
    await this.ready;
    for (;;) {
      const n = this.#buffer.shift();
      if (n !== undefined) return { done: false, value: n };
      if (this.#done) return { done: true, value: undefined };
      if (this.#link.lost !== null) {
        this.detach();
        throw new ConnectionDoesNotExistError(`listen(${JSON.stringify(this.#channel)}): the connection was lost (${this.#link.lost.message}); listen again on a new connection`);
      }
      const waiter = getRunningLoop().createFuture<void>();
      this.#waiter = waiter;
      try {
        await waitFuture(waiter);
      } finally {
        if (this.#waiter === waiter) this.#waiter = null;
      }
    }
  }

  /** Ends the iteration and runs UNLISTEN (what breaking out of `for await` calls). */
  async return(): Promise<IteratorResult<Notification>> {
    const wasListening = this.#started !== null && !this.#done;
    this.detach();
    const shared = [...this.#owners].some((other) => other.channel === this.#channel);
    if (wasListening && this.#link.lost === null && !shared) {
      try {
        await this.#started;
        await this.#link.control(`UNLISTEN ${quoteIdent(this.#channel)}`, "listen");
      } catch {
        // The connection was lost (its LISTENs with it) or LISTEN failed; nothing is left to undo.
      }
    }
    return { done: true, value: undefined };
  }

  /** @internal stops delivering (on release, the pool's reset runs UNLISTEN *). */
  detach(): void {
    if (this.#done) return;
    this.#done = true;
    this.#link.listeners.delete(this.#onEvent);
    this.#owners.delete(this);
    this.#onEvent(null);
  }

  /** `await using events = conn.listen(ch)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * Opens one connection outside any pool (asyncpg's `connect()`); `close()` it, or `await using`.
 * Cancelling the task while it connects abandons the attempt (a late connection is closed).
 * @throws {TypeError} for a DSN that is not a postgresql:// URI or wrong options.
 * @throws {InterfaceError} naming the server when it cannot be reached within `connectTimeout`.
 * @throws {PostgresError} when the server refuses the login (wrong password, unknown database).
 * @example
 * ```ts
 * import { run } from "aiots";
 * import { connect } from "aiots/pg";
 * await run(async () => {
 *   const conn = await connect({ dsn: "postgresql://postgres@127.0.0.1:5432/postgres", connectTimeout: 5 });
 *   try {
 *     console.log(await conn.execute("select 1")); // SELECT 1
 *   } finally {
 *     await conn.close();
 *   }
 * });
 * ```
 */
export async function connect(options: string | ConnectOptions): Promise<Connection> {
  const checked = checkConnectOptions(options, "connect()");
  const opening = Link.open(checked, "connect()");
  let link: Link;
  try {
    link = await waitFuture(adopt(opening));
  } catch (error) {
    // Cancelled while connecting (or just after): close the connection whenever it opens.
    void opening.then((late) => late.close(), () => {});
    throw error;
  }
  const loop = getRunningLoop();
  const conn = new Connection(link, async (l) => {
    resourceClosed(conn);
    await l.close();
  });
  resourceOpened(conn, "aiots/pg Connection", loop);
  return conn;
}

function adopt<T>(promise: Promise<T>): Future<T> {
  const fut = getRunningLoop().createFuture<T>();
  promise.then(
    (value) => {
      if (!fut.done()) fut.setResult(value);
    },
    (error: unknown) => {
      if (!fut.done()) fut.setException(error);
    },
  );
  return fut;
}
