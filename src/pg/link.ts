/**
 * One connection to the server (a node-postgres `Client`) and what aiots knows of its state: idle
 * (ReadyForQuery seen), the transaction status that message carried, whether a statement that the
 * awaiting task gave up on is still running, and whether the socket is lost.
 *
 * Why here and not in node-postgres's pool: whether a connection may be handed to the next task
 * is the point of cancellation. A statement whose task was cancelled gets a CancelRequest and is
 * *abandoned*; the link is usable again only once that statement has ended and ReadyForQuery has
 * arrived, and it is destroyed if that does not happen within `SETTLE_MS`.
 * @module
 */
import pg from "pg";
import { awaitForeign, CancelledError, getRunningLoop, TimeoutError } from "../core/index.ts";
import { sendCancelRequest } from "./cancel-request.ts";
import { ConnectionDoesNotExistError, InterfaceError, translateError } from "./errors.ts";
import type { CheckedConnect } from "./options.ts";
import { typeParsers } from "./types.ts";

/** How long a cancelled statement, a CancelRequest or a clean-up statement may take before the link is destroyed. */
const SETTLE_MS = 5000;

/** A LISTEN notification as `listen()` yields it (asyncpg's callback arguments). */
export interface Notification {
  /** The channel it was sent on. */
  channel: string;
  /** The payload (`""` when NOTIFY gave none). */
  payload: string;
  /** PID of the server process (session) that sent it. */
  pid: number;
}

/** What a statement is run for: rows as objects, rows as arrays (fetchVal), or the status only. */
export type RowMode = "objects" | "arrays";

/** @internal a result as the methods need it. */
export interface RunResult {
  rows: unknown[];
  status: string;
}

interface ClientInternals {
  readyForQuery: boolean;
  processID: number | null;
  secretKey: number | null;
  host: string;
  port: number;
  connection: {
    on(event: "readyForQuery", listener: (msg: { status?: string }) => void): void;
    on(event: "commandComplete", listener: (msg: { text: string }) => void): void;
    stream: { destroy(): void };
  };
}

/** @internal one open connection. */
export class Link {
  readonly #client: pg.Client;
  readonly #internals: ClientInternals;
  readonly #commandTimeout: number | null;
  /** Transaction status from the last ReadyForQuery: I idle, T in a transaction, E in a failed one. */
  txStatus = "I";
  /** Nesting depth of `transaction()` bodies running on this link. */
  txDepth = 0;
  /** Whether LISTEN ran since the last reset (the pool then runs UNLISTEN * before reuse). */
  listened = false;
  /** Loop time when the link was last put back idle. */
  idleSince = 0;
  /** Why the connection is unusable, once it is. */
  lost: Error | null = null;
  #status = "";
  #busy = false;
  #inflight: Promise<unknown> | null = null;
  #cancelSent: Promise<boolean> | null = null;
  readonly #rfqWaiters = new Set<() => void>();
  /** Called with each notification, and with `null` once the connection is lost. */
  readonly listeners = new Set<(n: Notification | null) => void>();
  /** Called once when the connection is lost. */
  onLost: (() => void) | null = null;

  private constructor(client: pg.Client, commandTimeout: number | null) {
    this.#client = client;
    this.#internals = client as unknown as ClientInternals;
    this.#commandTimeout = commandTimeout;
  }

  /**
   * Opens a connection (a plain promise: callers bound or adopt it).
   * @throws {InterfaceError} naming the server when it cannot be reached in time; the server's
   * `PostgresError` when it refuses the login.
   */
  static async open(options: CheckedConnect, who: string): Promise<Link> {
    const client = new pg.Client({ ...options.client, connectionTimeoutMillis: Math.ceil(options.connectTimeout * 1000), types: typeParsers });
    const link = new Link(client, options.commandTimeout);
    // Without an error listener a lost socket would end the process.
    client.on("error", (error) => link.#markLost(error));
    client.on("end", () => link.#markLost(new Error("the server closed the connection")));
    client.on("notification", (msg) => {
      const n: Notification = { channel: msg.channel, payload: msg.payload ?? "", pid: msg.processId };
      for (const listener of link.listeners) listener(n);
    });
    try {
      await client.connect();
    } catch (error) {
      link.destroy();
      const translated = translateError(error, who, false);
      if (translated instanceof InterfaceError) {
        throw new InterfaceError(`${who}: cannot connect to PostgreSQL at ${options.shown} (${(error as Error).message}); is the server running there and is the DSN right?`, { cause: error });
      }
      throw translated;
    }
    link.#internals.connection.on("readyForQuery", (msg) => {
      link.txStatus = msg.status ?? "I";
      for (const wake of link.#rfqWaiters) wake();
    });
    link.#internals.connection.on("commandComplete", (msg) => {
      link.#status = msg.text;
    });
    return link;
  }

  #markLost(error: Error): void {
    if (this.lost !== null) return;
    this.lost = error;
    for (const wake of this.#rfqWaiters) wake();
    for (const listener of this.listeners) listener(null);
    this.onLost?.();
  }

  /** Backend PID (pg_backend_pid()). */
  get pid(): number {
    return this.#internals.processID ?? 0;
  }

  /** Whether the link can be handed to another user as it is (no round trip needed). */
  isClean(): boolean {
    return this.lost === null && this.#inflight === null && !this.#busy && this.#internals.readyForQuery && this.txStatus === "I" && !this.listened && this.txDepth === 0;
  }

  /**
   * Runs one statement for the calling task. Cancelling the task (or a `timeout()`, or
   * `commandTimeout`) throws at once and sends a CancelRequest; the statement is then abandoned and
   * the next call waits until the server has ended it.
   * @throws {InterfaceError} when another statement of this connection's users is running.
   * @throws {ConnectionDoesNotExistError} when the connection is lost.
   * @throws {PostgresError} what the server reported.
   */
  async run(sql: string, args: readonly unknown[], mode: RowMode, who: string): Promise<RunResult> {
    if (typeof sql !== "string") throw new TypeError(`${who}: the query must be a string of SQL, got ${typeof sql}`);
    if (this.#busy) {
      throw new InterfaceError(`${who}: another operation is in progress on this connection; await it first, or acquire another connection from the pool for concurrent work`);
    }
    this.#busy = true;
    try {
      if (this.#inflight !== null && !(await awaitForeign(this.settle()))) throw this.#lostError(who);
      if (this.lost !== null) throw this.#lostError(who);
      this.#status = "";
      const query = this.#client.query({ text: sql, values: args.length === 0 ? undefined : [...args], ...(mode === "arrays" ? { rowMode: "array" } : {}) });
      this.#track(query);
      const deadline = this.#commandTimeout === null ? null : getRunningLoop().time() + this.#commandTimeout;
      let result: pg.QueryResult | pg.QueryResult[];
      try {
        result = await awaitForeign(query as Promise<pg.QueryResult | pg.QueryResult[]>, {
          deadline,
          timeoutMessage: `${who}: the statement ran past commandTimeout (${this.#commandTimeout} s); it was cancelled on the server`,
          onCancel: () => this.#cancel(),
        });
      } catch (error) {
        // The task's own cancel or deadline passes as it is; what the driver threw is translated.
        if (error instanceof CancelledError || error instanceof TimeoutError) throw error;
        throw translateError(error, who, this.lost !== null);
      }
      // A simple-protocol string of several statements gives one result each; the last one counts, as in asyncpg.
      const last = Array.isArray(result) ? result[result.length - 1] : result;
      return { rows: last?.rows ?? [], status: this.#status };
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Runs a statement that must happen (ROLLBACK, UNLISTEN): a plain promise that a cancel cannot cut
   * short, bounded by `SETTLE_MS`, after which the link is destroyed.
   * @throws {ConnectionDoesNotExistError} when the link is or becomes unusable.
   */
  async control(sql: string, who: string): Promise<void> {
    if (!(await this.settle())) throw this.#lostError(who);
    const query = this.#client.query(sql);
    this.#track(query);
    let timer: NodeJS.Timeout | undefined;
    const bounded = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.destroy();
        reject(this.#lostError(who));
      }, SETTLE_MS);
    });
    try {
      await Promise.race([query, bounded]);
    } catch (error) {
      this.destroy();
      throw translateError(error, who, true);
    } finally {
      clearTimeout(timer);
    }
  }

  #track(query: Promise<unknown>): void {
    this.#inflight = query;
    const done = (): void => {
      if (this.#inflight === query) this.#inflight = null;
    };
    query.then(done, done);
  }

  #cancel(): void {
    const pid = this.#internals.processID;
    const secret = this.#internals.secretKey;
    if (this.lost !== null || pid === null || secret === null) return;
    this.#cancelSent = sendCancelRequest(this.#internals.host, this.#internals.port, pid, secret, SETTLE_MS);
  }

  /** Cancels the running statement on the server, if any (pool close). */
  cancelRunning(): void {
    if (this.#inflight !== null) this.#cancel();
  }

  /**
   * Waits until the link is idle: the abandoned statement (if any) ended, the CancelRequest was
   * handled, ReadyForQuery arrived. Resolves `false` (and destroys the link) if that takes longer
   * than `SETTLE_MS` or the connection is lost. Never rejects.
   */
  async settle(): Promise<boolean> {
    const deadline = Date.now() + SETTLE_MS;
    const inflight = this.#inflight;
    if (inflight !== null) {
      const ended = await within(inflight.then(() => true, () => true), SETTLE_MS);
      if (!ended) {
        this.destroy();
        return false;
      }
    }
    const cancelSent = this.#cancelSent;
    if (cancelSent !== null) {
      await cancelSent;
      if (this.#cancelSent === cancelSent) this.#cancelSent = null;
    }
    while (this.lost === null && !this.#internals.readyForQuery) {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.destroy();
        return false;
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.#rfqWaiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#rfqWaiters.add(wake);
      });
    }
    return this.lost === null;
  }

  /**
   * Brings a used link back to a clean state for the next user: settled, no transaction open, no
   * LISTEN left. Resolves whether it is usable; an unusable link is destroyed. Never rejects.
   */
  async reset(): Promise<boolean> {
    try {
      if (!(await this.settle())) return false;
      if (this.txStatus !== "I") await this.control("ROLLBACK", "pool reset");
      if (this.listened) {
        await this.control("UNLISTEN *", "pool reset");
        this.listened = false;
      }
      this.txDepth = 0;
      return this.lost === null && this.txStatus === "I";
    } catch {
      this.destroy();
      return false;
    }
  }

  #lostError(who: string): ConnectionDoesNotExistError {
    const why = this.lost?.message ?? "it was closed";
    return new ConnectionDoesNotExistError(`${who}: the connection is unusable (${why}); acquire a new one from the pool`, { cause: this.lost ?? undefined });
  }

  /** Closes the connection gracefully (Terminate), destroying the socket if that takes over 1 s. */
  async close(): Promise<void> {
    if (this.lost !== null) {
      this.destroy();
      return;
    }
    this.#markLost(new Error("the connection was closed"));
    if (!(await within(this.#client.end().then(() => true, () => true), 1000))) this.destroy();
  }

  /** Drops the connection at once (the socket is destroyed). */
  destroy(): void {
    this.#markLost(new Error("the connection was closed"));
    try {
      this.#internals.connection.stream.destroy();
    } catch {
      // already gone
    }
  }
}

/** Whether `promise` resolves within `ms` (its value is dropped). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}
