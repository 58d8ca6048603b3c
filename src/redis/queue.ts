/**
 * `RedisQueue`: asyncio.Queue's API on a Redis Stream consumer group, shared by every process and
 * machine that names the same queue on the same Redis.
 *
 * How it works: every operation that changes shared state is one atomic Lua script
 * (queue-scripts.ts); the counts asyncio keeps in memory (`qsize`, unfinished items for `join`) are
 * read from the stream itself, exact across processes. A get waits in the process while one
 * connection per instance blocks in XREADGROUP for it (queue-taker.ts: how a cancelled get takes
 * nothing). Putters and joiners that must wait for room or for the last acknowledgement wait in the
 * process too, while another connection blocks in XREAD on the queue's event stream.
 *
 * Delivery is at least once: items taken and not acknowledged by `taskDone()` are renewed while
 * this instance lives (every third of `visibilityTimeout`), and delivered again once a consumer has
 * stopped renewing them for `visibilityTimeout` seconds (it died, hung, or lost Redis).
 * @module
 */
import { randomUUID, createHash } from "node:crypto";
import { hostname } from "node:os";
import { awaitForeign, getRunningLoop, inspectSymbol, resourceClosed, resourceOpened, waitFuture, type Future } from "../core/index.ts";
import { getsUntilShutDown, QueueEmpty, QueueFull, QueueShutDown } from "../sync/index.ts";
import { checkRedisUrl, checkSeconds, isConnectionLoss, openClient, redactUrl, type RedisClient, type RedisConnectOptions } from "./connection.ts";
import * as scripts from "./queue-scripts.ts";
import type { Script } from "./queue-scripts.ts";
import { Taker, type Reply } from "./queue-taker.ts";

/** Options of `new RedisQueue(name, options)`. Times in seconds. */
export interface RedisQueueOptions extends RedisConnectOptions {
  /** The most items waiting in the queue (per group); `put` waits while it is full. 0 or less: no limit. Give every instance the same value. */
  maxsize?: number;
  /** Consumer group (default `"aiots"`): instances in one group share the items; each group gets every item. */
  group?: string;
  /** This instance's consumer name in the group (default `<host>:<pid>:<random>`, unique). */
  consumer?: string;
  /** Seconds after which an item taken and neither acknowledged nor renewed is delivered again (default 30). */
  visibilityTimeout?: number;
}

interface Clients {
  cmd: RedisClient;
  // Blocks in XREADGROUP for the getters (queue-taker.ts).
  reader: Promise<RedisClient> | null;
  // Blocks in XREAD on the event stream.
  watcher: Promise<RedisClient> | null;
}

// A putter or joiner waiting for the event stream to move past the id it saw.
interface Wait {
  fut: Future<void>;
  eventsId: string;
}

// How long an instance's put tokens are kept after its last put (a put sent again after a lost
// connection within it is stored once); the expiry is set again every tenth of it while puts go on.
const TOKEN_TTL_MS = 5 * 60 * 1000;
const TOKEN_TTL_ARG = String(TOKEN_TTL_MS);

// A PUT sent again checks its token (queue-scripts.ts): the last argument says so.
function markResent(args: string[]): void {
  args[args.length - 1] = "1";
}

/**
 * A FIFO queue in Redis with asyncio.Queue's API; every method returns a promise. Items are JSON
 * values. Every instance with the same `name` (and `group`) on the same Redis shares the items, the
 * `join()` count and the shut-down state. Delivery is at least once: an item a consumer took and
 * did not `taskDone()` before it died is delivered again after `visibilityTimeout` seconds, so
 * make handlers idempotent. `taskDone()` acknowledges the oldest item this instance took and has
 * not acknowledged. A cancelled `get()` takes nothing. Close it (`close()`, `await using`) to
 * release its connections.
 * @example
 * ```ts
 * import { run, createTask } from "aiots";
 * import { RedisQueue } from "aiots/redis";
 * await run(async () => {
 *   await using queue = new RedisQueue<{ n: number }>("jobs", { url: "redis://127.0.0.1:6379", maxsize: 100 });
 *   const worker = createTask(async () => {
 *     for await (const job of queue) { console.log(job.n); await queue.taskDone(); }
 *   });
 *   for (let n = 0; n < 3; n++) await queue.put({ n });
 *   await queue.join();
 *   await queue.shutdown();
 *   await worker;
 * });
 * ```
 */
export class RedisQueue<T> implements AsyncIterable<T>, AsyncDisposable {
  /** The queue's name (its keys are `aiots:queue:{name}:*`). */
  readonly name: string;
  /** The consumer group this instance takes from. */
  readonly group: string;
  /** This instance's consumer name. */
  readonly consumer: string;
  /** The bound on waiting items (0 or less: none). */
  readonly maxsize: number;
  /** Seconds before an unacknowledged, unrenewed item is delivered again. */
  readonly visibilityTimeout: number;
  readonly #url: URL;
  readonly #connectTimeout: number;
  readonly #base: string;
  // This instance's put tokens (queue-scripts.ts, PUT): each put in flight holds a slot of the
  // instance's hash in Redis; a slot goes back to #freeSlots once its put's last command settled.
  readonly #ring = randomUUID();
  readonly #freeSlots: string[] = [];
  #slots = 0;
  #tokens = 0;
  #ringRefreshedAt = -Infinity;
  readonly #maxsizeArg: string;
  #clients: Promise<Clients> | null = null;
  #cmd: RedisClient | null = null;
  // Ids this instance took and has not acknowledged, oldest first (taskDone() acknowledges the head).
  readonly #held: string[] = [];
  readonly #waits = new Set<Wait>();
  readonly #taker: Taker;
  readonly #pollMs: number;
  // The event stream is read from here on (the local view of the shutdown state is as of this id).
  #eventsCursor = "0-0";
  #watching = false;
  #renewTimer: ReturnType<typeof setInterval> | null = null;
  #closed = false;
  readonly #shas = new Map<Script, string>();

  /**
   * Names the queue; connects on first use.
   * @throws {TypeError} for an empty name, a bad URL, or a non-integer maxsize. {RangeError} for a non-positive time.
   */
  constructor(name: string, options: RedisQueueOptions) {
    const who = `RedisQueue(${JSON.stringify(name)})`;
    if (typeof name !== "string" || name === "") throw new TypeError("RedisQueue(name, options): the name must be a non-empty string");
    if (options === null || typeof options !== "object") throw new TypeError(`${who}: options with a url are required, e.g. { url: "redis://127.0.0.1:6379" }`);
    this.#url = checkRedisUrl(options.url, who);
    const maxsize = options.maxsize ?? 0;
    if (typeof maxsize !== "number" || !Number.isInteger(maxsize)) throw new TypeError(`${who}: maxsize must be an integer (0 or less for no limit), got ${String(maxsize)}`);
    for (const [key, value] of [["group", options.group], ["consumer", options.consumer]] as const) {
      if (value !== undefined && (typeof value !== "string" || value === "")) throw new TypeError(`${who}: ${key} must be a non-empty string`);
    }
    this.name = name;
    this.maxsize = maxsize;
    this.#maxsizeArg = String(maxsize);
    this.group = options.group ?? "aiots";
    this.consumer = options.consumer ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.visibilityTimeout = checkSeconds(options.visibilityTimeout ?? 30, "visibilityTimeout", who);
    this.#connectTimeout = checkSeconds(options.connectTimeout ?? 10, "connectTimeout", who);
    this.#base = `aiots:queue:{${name}}`;
    this.#pollMs = Math.round(Math.max(50, Math.min(2000, (this.visibilityTimeout * 1000) / 4)));
    const stream = `${this.#base}:s:${this.group}`;
    this.#taker = new Taker({
      group: this.group,
      consumer: this.consumer,
      stream,
      visibilityMs: Math.round(this.visibilityTimeout * 1000),
      pollMs: this.#pollMs,
      eval: (script, args) => this.#eval(script, args),
      command: () => this.#cmd,
      reader: () => this.#reader(),
      watch: () => void this.#watch(),
      closed: () => this.#closed,
      shutDownError: () => this.#shutDownError("get"),
    });
  }

  /**
   * Puts `item` at the end of the queue, waiting while the queue is full. A put cancelled while it
   * waits for room puts nothing; one cancelled while its command is on the wire may still land.
   * @throws {TypeError} if the item is not a JSON value (a BigInt, a cycle, undefined, a function).
   * @throws {QueueShutDown} if the queue is shut down (by any instance).
   */
  async put(item: T): Promise<void> {
    const json = this.#encode(item, "put");
    this.#checkOpen();
    const slot = this.#freeSlots.pop() ?? String(this.#slots++);
    const token = String(this.#tokens++);
    let waiting = false;
    let last: Promise<Reply> | null = null;
    try {
      for (;;) {
        last = this.#sendPut(json, slot, token, waiting, true);
        const reply = await this.#settle(last, (late) => {
          if (late[0] === "full") this.#unwait();
        });
        waiting = reply[0] === "full";
        if (reply[0] === "ok") return;
        if (reply[0] === "shutdown") throw this.#shutDownError("put");
        await this.#waitForChange(reply[1]!);
      }
    } catch (error) {
      if (waiting) this.#unwait();
      throw error;
    } finally {
      this.#freeSlot(slot, last);
    }
  }

  /**
   * Puts `item` if there is room now.
   * @throws {QueueFull} if the queue is full. {QueueShutDown} if it is shut down. {TypeError} as `put()`.
   */
  async putNowait(item: T): Promise<void> {
    const json = this.#encode(item, "putNowait");
    this.#checkOpen();
    const slot = this.#freeSlots.pop() ?? String(this.#slots++);
    const pending = this.#sendPut(json, slot, String(this.#tokens++), false, false);
    this.#freeSlot(slot, pending);
    const reply = await this.#settle(pending);
    if (reply[0] === "full") throw new QueueFull(`RedisQueue(${JSON.stringify(this.name)}) is full (maxsize ${this.maxsize})`);
    if (reply[0] === "shutdown") throw this.#shutDownError("putNowait");
  }

  /**
   * Takes the next item, waiting while the queue is empty. Items that a dead consumer held come
   * first once their `visibilityTimeout` has passed.
   * @throws {QueueShutDown} once the queue is shut down and empty (at once after `shutdown(true)`).
   * @throws {CancelledError} if the task is cancelled; no item is taken.
   */
  async get(): Promise<T> {
    this.#checkOpen();
    const [id, json] = await this.#taker.take();
    return this.#accept(id, json);
  }

  /**
   * Takes the next item if there is one now.
   * @throws {QueueEmpty} if the queue is empty. {QueueShutDown} if it is shut down and empty.
   */
  async getNowait(): Promise<T> {
    const reply = await this.#take();
    if (reply[0] === "item") return this.#accept(reply[1]!, reply[2]!);
    if (reply[0] === "shutdown") throw this.#shutDownError("getNowait");
    throw new QueueEmpty(`RedisQueue(${JSON.stringify(this.name)}) is empty`);
  }

  /**
   * Acknowledges the oldest item this instance took and has not acknowledged: it will not be
   * delivered again, and it no longer counts for `join()`. In a consumer loop it also starts the
   * read for the next `get()` (in the same write to Redis); an item that read brings and no `get()`
   * asks for within a fifth of a second is given back to the queue.
   * @throws {Error} if this instance holds no unacknowledged item.
   */
  async taskDone(): Promise<void> {
    this.#checkOpen();
    const id = this.#held.shift();
    if (id === undefined) {
      throw new Error(`RedisQueue(${JSON.stringify(this.name)}).taskDone() called more times than this instance took items with get()`);
    }
    const args = [this.group, this.#taker.takenFlag(), id];
    const reader = this.#taker.idleReader();
    if (reader === null) {
      await this.#call(scripts.DONE, args);
      return;
    }
    // On the reading connection, in one write with the read for the next get() (queue-taker.ts).
    // Over a dropped connection, or after a restart of Redis lost the scripts, it is sent again on
    // the command connection (where the read cannot hold it up).
    const done = this.#send(reader, scripts.DONE, [this.#base, ...args], false).catch((error: unknown) => {
      if (this.#closed || !(isConnectionLoss(error) || (error instanceof Error && error.message.startsWith("NOSCRIPT")))) throw this.#describe(error, scripts.DONE);
      return this.#eval(scripts.DONE, args);
    });
    this.#taker.prefetch();
    await awaitForeign(done);
  }

  /**
   * Waits until every item put in the queue (by any instance) has been acknowledged.
   * @throws {CancelledError} if the task is cancelled while waiting.
   */
  async join(): Promise<void> {
    let waiting = false;
    try {
      for (;;) {
        const reply = await this.#call(scripts.JOIN, [this.group, waiting ? "1" : "0", "1"], (late) => {
          if (late[0] === "wait") this.#unwait();
        });
        waiting = reply[0] === "wait";
        if (!waiting) return;
        await this.#waitForChange(reply[1]!);
      }
    } catch (error) {
      if (waiting) this.#unwait();
      throw error;
    }
  }

  /** How many items wait in the queue (put, not yet taken). */
  async qsize(): Promise<number> {
    return (await this.#sizes())[0];
  }

  /** Whether no item waits in the queue. */
  async empty(): Promise<boolean> {
    return (await this.#sizes())[0] === 0;
  }

  /** Whether the queue holds `maxsize` items (never, when unbounded). */
  async full(): Promise<boolean> {
    return this.maxsize > 0 && (await this.#sizes())[0] >= this.maxsize;
  }

  /**
   * Shuts the queue down for every instance: `put` throws `QueueShutDown` from now on; getters take
   * what is left, then get `QueueShutDown`. With `immediate`, the waiting items are dropped (and
   * count as done for `join()`) and getters fail at once. The state stays in Redis: a queue shut
   * down stays shut down (delete its keys, `aiots:queue:{name}:*`, to start over).
   */
  async shutdown(immediate = false): Promise<void> {
    await this.#call(scripts.SHUTDOWN, [immediate ? "1" : "0"]);
  }

  /** Iterates with `get()` until the queue is shut down and drained. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return getsUntilShutDown(() => this.get());
  }

  /**
   * Closes this instance's connections. Items it holds unacknowledged are delivered again after
   * `visibilityTimeout`; the queue itself lives on in Redis. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#renewTimer !== null) clearInterval(this.#renewTimer);
    for (const wait of this.#waits) {
      if (!wait.fut.done()) wait.fut.setException(this.#closedError());
    }
    // Fails the getters, ends the blocking read, gives back what it brought.
    const taking = this.#taker.close(this.#closedError());
    const clients = this.#clients;
    if (clients === null) return await taking;
    resourceClosed(this);
    try {
      const { cmd, reader, watcher } = await clients;
      void watcher?.then((w) => w.destroy(), () => {});
      await taking;
      void reader?.then((r) => r.destroy(), () => {});
      if (this.#held.length === 0) {
        await this.#send(cmd, scripts.RELEASE, [this.#base, this.group, this.consumer]).catch(() => {});
      }
      // Nothing of this instance is sent again after close: its put tokens can go.
      if (this.#slots > 0) await cmd.sendCommand(["DEL", `${this.#base}:put:${this.#ring}`]).catch(() => {});
      await cmd.close().catch(() => cmd.destroy());
    } catch {
      // The connection never opened: nothing to release.
    }
  }

  /** `await using queue = new RedisQueue(...)` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  toString(): string {
    const parts = [JSON.stringify(this.name), `group=${this.group}`, `maxsize=${this.maxsize}`, `url=${redactUrl(this.#url)}`];
    if (this.#held.length > 0) parts.push(`held=${this.#held.length}`);
    if (this.#taker.buffered > 0) parts.push(`read-ahead=${this.#taker.buffered}`);
    const waiting = this.#waits.size + this.#taker.waiting;
    if (waiting > 0) parts.push(`waiting=${waiting}`);
    if (this.#closed) parts.push("closed");
    return `<RedisQueue ${parts.join(" ")}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  // One take; if the caller stops waiting (cancelled) before the reply lands, an item in it goes back.
  #take(): Promise<Reply> {
    return this.#call(scripts.TAKE, [this.group, this.consumer, String(Math.round(this.visibilityTimeout * 1000)), this.#taker.takenFlag()], (late) => {
      if (late[0] === "item" && !this.#closed) void this.#taker.giveBack([late[1]!]);
    });
  }

  #accept(id: string, json: string): T {
    this.#held.push(id);
    this.#renewTimer ??= setInterval(() => this.#renew(), (this.visibilityTimeout * 1000) / 3).unref();
    try {
      return JSON.parse(json) as T;
    } catch {
      throw new TypeError(`RedisQueue(${JSON.stringify(this.name)}).get(): item ${id} is not JSON (was it put by something else than RedisQueue?); call taskDone() to drop it`);
    }
  }

  #renew(): void {
    if (this.#held.length === 0) {
      if (this.#renewTimer !== null) clearInterval(this.#renewTimer);
      this.#renewTimer = null;
      return;
    }
    void this.#eval(scripts.RENEW, [this.group, this.consumer, ...this.#held]).catch(() => {});
  }

  #unwait(): void {
    if (this.#closed) return;
    void this.#eval(scripts.UNWAIT, []).catch(() => {});
  }

  async #sizes(): Promise<[number, number]> {
    return (await this.#call(scripts.SIZES, [this.group])) as unknown as [number, number];
  }

  // One PUT script for the put holding `slot` (its token stays the same when it is sent again).
  #sendPut(json: string, slot: string, token: string, wasWaiting: boolean, willWait: boolean): Promise<Reply> {
    const now = Date.now();
    const refresh = now - this.#ringRefreshedAt >= TOKEN_TTL_MS / 10;
    if (refresh) this.#ringRefreshedAt = now;
    const args = [json, this.#maxsizeArg, this.#ring, slot, token, TOKEN_TTL_ARG, refresh ? "1" : "0", wasWaiting ? "1" : "0", willWait ? "1" : "0", "0"];
    return this.#eval(scripts.PUT, args, markResent);
  }

  // A slot is free again once the put's last command settled: until then it may still be sent again.
  #freeSlot(slot: string, last: Promise<Reply> | null): void {
    const free = (): void => void this.#freeSlots.push(slot);
    if (last === null) free();
    else last.then(free, free);
  }

  // Runs a script for the calling task: cancelling the task interrupts the wait at once. A reply that
  // lands after the caller stopped waiting goes to `late` (to undo what it did).
  #call(script: Script, args: string[], late?: (reply: Reply) => void): Promise<Reply> {
    this.#checkOpen();
    return this.#settle(this.#eval(script, args), late);
  }

  async #settle(pending: Promise<Reply>, late?: (reply: Reply) => void): Promise<Reply> {
    try {
      return await awaitForeign(pending);
    } catch (error) {
      if (late !== undefined) pending.then(late, () => {});
      throw error;
    }
  }

  // Runs a script, sending it again when the connection dropped with it in flight (every script is
  // safe to repeat: a put carries a token, acknowledgements are idempotent, a lost take's item
  // is delivered again after visibilityTimeout). `onResend` marks the arguments of a command that
  // may already have run (every attempt after the first, to be safe).
  async #eval(script: Script, args: string[], onResend?: (args: string[]) => void): Promise<Reply> {
    const cmd = this.#cmd ?? (await this.#connected()).cmd;
    let registered = false;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) onResend?.(args);
      try {
        return await this.#send(cmd, script, [this.#base, ...args]);
      } catch (error) {
        if (!this.#closed && !registered && isNoGroup(error)) {
          // The queue's keys were deleted under it: register again (a fresh, empty queue).
          registered = true;
          await this.#register(cmd);
          continue;
        }
        if (this.#closed || !isConnectionLoss(error)) throw this.#describe(error, script);
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** Math.min(attempt, 4), 1000)));
      }
    }
  }

  // Creates the group (if needed) and learns the shutdown state, as of an event id.
  async #register(cmd: RedisClient): Promise<void> {
    const [state, eventsId] = await this.#send(cmd, scripts.REGISTER, [this.#base, this.group, this.consumer]);
    this.#taker.shutdownState = state;
    if (compareIds(eventsId!, this.#eventsCursor) > 0 && !this.#watching) this.#eventsCursor = eventsId!;
  }

  async #send(cmd: RedisClient, script: Script, args: string[], reload = true): Promise<Reply> {
    let sha = this.#shas.get(script);
    if (sha === undefined) {
      sha = createHash("sha1").update(script.source).digest("hex");
      this.#shas.set(script, sha);
    }
    try {
      return await cmd.sendCommand<Reply>(["EVALSHA", sha, "0", ...args]);
    } catch (error) {
      // A restarted Redis has lost its script cache.
      if (reload && error instanceof Error && error.message.startsWith("NOSCRIPT")) return await cmd.sendCommand<Reply>(["EVAL", script.source, "0", ...args]);
      throw error;
    }
  }

  #connected(): Promise<Clients> {
    if (this.#clients === null) {
      const who = `RedisQueue(${JSON.stringify(this.name)})`;
      const opening = openClient(this.#url, this.#connectTimeout, who, `aiots-queue:${this.consumer}`).then(async (cmd) => {
        try {
          await this.#register(cmd);
        } catch (error) {
          cmd.destroy();
          throw this.#describe(error, scripts.REGISTER);
        }
        if (this.#closed) {
          cmd.destroy();
          throw this.#closedError();
        }
        resourceOpened(this, "RedisQueue", getRunningLoop());
        this.#cmd = cmd;
        return { cmd, reader: null, watcher: null };
      });
      this.#clients = opening;
      // A failed first connection is tried afresh by the next call.
      opening.catch(() => {
        if (this.#clients === opening) this.#clients = null;
      });
    }
    return this.#clients;
  }

  // The connection that blocks in XREADGROUP for the getters.
  async #reader(): Promise<RedisClient> {
    const clients = await this.#connected();
    clients.reader ??= openClient(this.#url, this.#connectTimeout, `RedisQueue(${JSON.stringify(this.name)})`, `aiots-queue-read:${this.consumer}`);
    return await clients.reader;
  }

  // Waits (locally) until the event stream moves past `eventsId`, or a poll interval passes.
  async #waitForChange(eventsId: string): Promise<void> {
    this.#checkOpen();
    const wait: Wait = { fut: getRunningLoop().createFuture<void>(), eventsId };
    this.#waits.add(wait);
    void this.#watch();
    try {
      await waitFuture(wait.fut);
    } finally {
      this.#waits.delete(wait);
    }
  }

  // Reads the event stream until close, once anything waited: every round wakes the putters and
  // joiners (they look again); a given-back item or a shutdown makes the getters' pump look with a
  // TAKE. It runs on after the waits end so that the local view of the shutdown state stays current.
  async #watch(): Promise<void> {
    if (this.#watching) return;
    this.#watching = true;
    const events = `${this.#base}:e`;
    try {
      const clients = await this.#connected();
      clients.watcher ??= openClient(this.#url, this.#connectTimeout, `RedisQueue(${JSON.stringify(this.name)})`, `aiots-queue-wait:${this.consumer}`);
      const watcher = await clients.watcher;
      while (!this.#closed) {
        const round = [...this.#waits];
        const from = oldest([this.#eventsCursor, ...round.map((w) => w.eventsId)]);
        try {
          const reply = await watcher.sendCommand<Array<[string, Array<[string, string[]]>]> | null>(["XREAD", "BLOCK", String(this.#pollMs), "STREAMS", events, from]);
          let recheck = false;
          for (const [id, fields] of reply?.[0]?.[1] ?? []) {
            if (compareIds(id, this.#eventsCursor) <= 0) continue;
            this.#eventsCursor = id;
            const kind = fields[1];
            if (kind === "shutdown" && this.#taker.shutdownState === "0") this.#taker.shutdownState = "1";
            if (kind === "shutdown" || kind === "returned") recheck = true;
          }
          if (recheck) this.#taker.recheck();
        } catch {
          if (this.#closed) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        for (const wait of round) if (!wait.fut.done()) wait.fut.setResult(undefined);
      }
    } catch (error) {
      for (const wait of this.#waits) if (!wait.fut.done()) wait.fut.setException(error);
    } finally {
      this.#watching = false;
    }
  }

  #encode(item: T, what: string): string {
    let json: string | undefined;
    try {
      json = JSON.stringify(item);
    } catch (error) {
      throw new TypeError(`RedisQueue(${JSON.stringify(this.name)}).${what}(): the item cannot be serialised as JSON (${(error as Error).message}); items must be JSON values`, { cause: error });
    }
    if (json === undefined) {
      throw new TypeError(`RedisQueue(${JSON.stringify(this.name)}).${what}(): ${typeof item} is not a JSON value; items must be JSON values`);
    }
    return json;
  }

  #describe(error: unknown, script: Script): Error {
    if (!(error instanceof Error)) return new Error(String(error));
    if (error.message.startsWith("RedisQueue")) return error;
    return new Error(`RedisQueue(${JSON.stringify(this.name)}) ${script.name} failed on ${redactUrl(this.#url)}: ${error.message}`, { cause: error });
  }

  #checkOpen(): void {
    if (this.#closed) throw this.#closedError();
  }

  #closedError(): Error {
    return new Error(`RedisQueue(${JSON.stringify(this.name)}) is closed`);
  }

  #shutDownError(what: string): QueueShutDown {
    return new QueueShutDown(`RedisQueue(${JSON.stringify(this.name)}).${what}(): the queue is shut down`);
  }
}

// The smallest of some stream ids ("ms-seq").
function oldest(ids: string[]): string {
  let best = ids[0]!;
  for (const id of ids) if (compareIds(id, best) < 0) best = id;
  return best;
}

function compareIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split("-").map(BigInt) as [bigint, bigint];
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}

function isNoGroup(error: unknown): boolean {
  return error instanceof Error && /NOGROUP/.test(error.message);
}
