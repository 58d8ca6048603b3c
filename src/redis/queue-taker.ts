/**
 * How a `RedisQueue` instance takes items for its `get()` calls.
 *
 * The getters wait in the process, each on its own future. One loop per instance (the pump) feeds
 * them: it blocks in `XREADGROUP ... COUNT <getters> BLOCK` on a connection of its own and hands
 * each item Redis delivers to the oldest getter still waiting. That is one command per item, and a
 * new item wakes one blocked consumer in the whole group, as Redis serves blocked consumer-group
 * readers one entry each. Now and then (every poll interval, after a `returned` or `shutdown`
 * event, and on the first get) the pump runs the non-blocking TAKE script instead, which first
 * claims items whose holder stopped renewing them and reports the shutdown state.
 *
 * Reading ahead: `taskDone()` sends its acknowledgement on the reading connection, followed in the
 * same write by the read for the get() that a consumer loop makes next (`prefetch()`), so that a
 * consumer's item costs one write instead of two. What that read brings before a get() asks waits
 * in `#buffer` for at most `#grace` ms (a fifth of a second at most, and a quarter of the
 * visibility timeout); then it is given back, the read is ended, and reading ahead stops until
 * gets follow acknowledgements closely again.
 *
 * A cancelled get() takes nothing: the getter stops waiting at once (its future is cancelled, no
 * round trip), and an item a read brings afterwards goes to the next getter of this instance or,
 * when none waits, is given back (GIVE_BACK: expired at once, so the next take anywhere gets it).
 * When the last getter leaves while a read is blocked, `CLIENT UNBLOCK` on the command connection
 * ends that read early so that it usually brings nothing; it is never waited for. Every item Redis
 * hands to this consumer is therefore returned by exactly one get(), or given back, or (when the
 * connection dropped with it in the reply, or the process died with it read ahead) left in this
 * consumer's pending list, unrenewed, to be delivered again after `visibilityTimeout`.
 * @module
 */
import { getRunningLoop, waitFuture, type Future } from "../core/index.ts";
import { isConnectionLoss, type RedisClient } from "./connection.ts";
import * as scripts from "./queue-scripts.ts";
import type { Script } from "./queue-scripts.ts";

/** An item as Redis hands it over: stream id and JSON text. */
export type Taken = [id: string, json: string];

/** A script reply: a kind followed by its fields. */
export type Reply = [string, ...string[]];

/** What the taker needs from its queue. */
export interface TakerHost {
  readonly group: string;
  readonly consumer: string;
  /** The item stream's key. */
  readonly stream: string;
  readonly visibilityMs: number;
  /** How long one blocking read waits before the pump looks again (ms). */
  readonly pollMs: number;
  /** Runs a script, resending it over a dropped connection. */
  eval(script: Script, args: string[]): Promise<Reply>;
  /** The command connection once open, for CLIENT UNBLOCK (null before). */
  command(): RedisClient | null;
  /** The blocking connection, opened on first use. */
  reader(): Promise<RedisClient>;
  /** Makes sure the event watcher runs (it calls `recheck()` on `returned` and `shutdown`). */
  watch(): void;
  /** Whether the queue was closed. */
  closed(): boolean;
  /** The error getters fail with once the queue is shut down and drained. */
  shutDownError(): Error;
}

type StreamReply = Array<[string, Array<[string, string[]]>]> | null;

/** The getters of one `RedisQueue` instance and the loop that takes items for them. */
export class Taker {
  readonly #host: TakerHost;
  readonly #getters: Array<Future<Taken>> = [];
  #pumping: Promise<void> | null = null;
  // The next round starts with a TAKE (claims expired items, learns the shutdown state).
  #recheck = true;
  #claimDueAt = 0;
  /** The shutdown state as last seen: "0" running, "1" shut down (drain), "2" shut down at once. */
  shutdownState = "0";
  #reading = false;
  #readerId: number | null = null;
  #readerSeen: RedisClient | null = null;
  // Items taken by blocking reads since a script last told Redis (putters waiting for room wait for that).
  #taken = false;
  #takenTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #givingBack = new Set<Promise<unknown>>();
  // Reading ahead (see the module comment).
  readonly #buffer: Taken[] = [];
  readonly #grace: number;
  #speculate = true;
  #speculative = false;
  #spareUntil = 0;
  #spareTimer: ReturnType<typeof setTimeout> | null = null;
  #lastDoneAt = -Infinity;

  constructor(host: TakerHost) {
    this.#host = host;
    this.#grace = Math.max(1, Math.min(200, host.visibilityMs / 4));
  }

  /** How many get() calls wait. */
  get waiting(): number {
    return this.#getters.length;
  }

  /** How many items were read ahead and wait for a get(). */
  get buffered(): number {
    return this.#buffer.length;
  }

  /**
   * Waits for an item for one get().
   * @throws {QueueShutDown} once the queue is shut down and drained; {CancelledError} (nothing taken).
   */
  async take(): Promise<Taken> {
    if (this.#buffer.length > 0 && this.shutdownState === "0") return this.#buffer.shift()!;
    if (!this.#speculate && Date.now() - this.#lastDoneAt < this.#grace) this.#speculate = true;
    const fut = getRunningLoop().createFuture<Taken>();
    this.#getters.push(fut);
    this.#pumping ??= this.#pump();
    try {
      return await waitFuture(fut);
    } catch (error) {
      this.#drop(fut);
      // Handed over, and the task was cancelled before it could resume: the item is not this get's.
      if (fut.done() && !fut.cancelled() && fut.exception() === null) this.#hand([fut.result()]);
      throw error;
    }
  }

  /**
   * Called by taskDone(): the reading connection when it may carry the acknowledgement followed by
   * `prefetch()`'s read in one write, else null (acknowledge on the command connection).
   */
  idleReader(): RedisClient | null {
    this.#lastDoneAt = Date.now();
    if (!this.#speculate || this.#host.closed() || this.shutdownState !== "0" || this.#pumping !== null) return null;
    if (this.#buffer.length > 0 || this.#recheck || Date.now() >= this.#claimDueAt) return null;
    const reader = this.#readerSeen;
    return reader !== null && reader.isReady ? reader : null;
  }

  /** Starts the read for the get() that usually follows a taskDone() (after `idleReader()`). */
  prefetch(): void {
    this.#speculative = true;
    this.#spare();
    this.#pumping ??= this.#pump();
  }

  /** "1" if blocking reads took items since the last script said so (and resets it): the `taken` argument of TAKE and DONE. */
  takenFlag(): string {
    if (!this.#taken) return "0";
    this.#taken = false;
    return "1";
  }

  /** An event (an item given back, a shutdown) may make a TAKE find what a blocked read cannot. */
  recheck(): void {
    this.#recheck = true;
    if (this.#getters.length > 0) this.#unblock();
  }

  /** Gives items back to the group (expired at once, so the next take anywhere gets them). */
  giveBack(ids: string[]): Promise<unknown> {
    return this.#host.eval(scripts.GIVE_BACK, [this.#host.group, this.#host.consumer, ...ids]).catch(() => {});
  }

  /** Fails the waiting getters; ends the blocking read (what it brings is given back) and tells Redis what was taken. */
  async close(error: Error): Promise<void> {
    this.#fail(error);
    if (this.#takenTimer !== null) clearTimeout(this.#takenTimer);
    if (this.#spareTimer !== null) clearTimeout(this.#spareTimer);
    this.#giveBackBuffer();
    if (this.#pumping !== null) {
      // A read that cannot be unblocked (its client id not known yet) is cut when the connection
      // closes: what it may have taken comes back after visibilityTimeout.
      const wait = this.#unblock() ? this.#host.pollMs + 1000 : this.#reading ? 0 : 1000;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.#pumping, new Promise((resolve) => (timer = setTimeout(resolve, wait)))]);
      clearTimeout(timer);
    }
    await Promise.all(this.#givingBack);
    if (this.#taken) await this.#host.eval(scripts.TAKEN, []).catch(() => {});
  }

  async #pump(): Promise<void> {
    const host = this.#host;
    try {
      host.watch();
      let attempt = 0;
      while ((this.#getters.length > 0 || this.#speculative) && !host.closed()) {
        try {
          if (this.#recheck || this.shutdownState !== "0" || Date.now() >= this.#claimDueAt) {
            this.#recheck = false;
            this.#claimDueAt = Date.now() + host.pollMs;
            const reply = await host.eval(scripts.TAKE, [host.group, host.consumer, String(host.visibilityMs), this.takenFlag()]);
            if (reply[0] === "item") {
              if (reply[4] === "claimed") this.#recheck = true; // more may have expired
              this.#hand([[reply[1]!, reply[2]!]]);
              continue;
            }
            if (reply[0] === "shutdown") {
              this.shutdownState = reply[1] ?? "1";
              if (this.shutdownState === "2") {
                // Shut down at once: what was read ahead is dropped like every item not yet got.
                for (const [id] of this.#buffer.splice(0)) void host.eval(scripts.DONE, [host.group, "0", id]).catch(() => {});
              }
              this.#hand([]); // what was read ahead is still to be had after a plain shutdown
              if (this.#buffer.length === 0) this.#fail(host.shutDownError());
              continue;
            }
            this.shutdownState = "0"; // empty: not shut down (its keys were deleted, if it was)
            if (this.#buffer.length > 0) {
              this.#hand([]);
              continue;
            }
          }
          const taken = await this.#read(await host.reader());
          attempt = 0;
          if (taken === null) this.#claimDueAt = 0; // poll timeout or unblocked: look with a TAKE
          else this.#hand(taken);
        } catch (error) {
          if (host.closed()) break;
          // The group is gone (its keys were deleted): the TAKE script registers it again.
          if (error instanceof Error && error.message.includes("NOGROUP") && !this.#recheck) {
            this.#recheck = true;
            continue;
          }
          if (!isConnectionLoss(error)) throw error;
          // The read was cut by a lost connection: what Redis may have handed over in it is in this
          // consumer's pending list, unrenewed, and comes back after visibilityTimeout. Look again.
          this.#recheck = true;
          await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** Math.min(attempt++, 4), 1000)));
        }
      }
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.#pumping = null;
    }
    // A getter that came while the loop was finishing (in a microtask after the last check).
    if (this.#getters.length > 0 && !host.closed()) this.#pumping ??= this.#pump();
  }

  // One blocking read for as many items as getters wait.
  async #read(reader: RedisClient): Promise<Taken[] | null> {
    if (this.#readerSeen !== reader) {
      this.#readerSeen = reader;
      // A reconnected client has another id; CLIENT UNBLOCK must name the current one.
      reader.on("ready", () => (this.#readerId = null));
      this.#readerId = null;
    }
    if (this.#readerId === null) {
      // Sent in the same write as the read that follows: no extra wait.
      void reader.sendCommand<number>(["CLIENT", "ID"]).then((id) => (this.#readerId = id), () => {});
    }
    const host = this.#host;
    this.#reading = true;
    let reply: StreamReply;
    try {
      this.#speculative = false;
      reply = await reader.sendCommand<StreamReply>(["XREADGROUP", "GROUP", host.group, host.consumer, "COUNT", String(Math.max(1, this.#getters.length)), "BLOCK", String(host.pollMs), "STREAMS", host.stream, ">"]);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith("UNBLOCKED")) return null;
      throw error;
    } finally {
      this.#reading = false;
    }
    if (reply === null) return null;
    const taken = reply[0]![1].map(([id, fields]): Taken => [id, fields[fields.indexOf("d") + 1]!]);
    if (taken.length > 0) this.#noteTaken();
    return taken;
  }

  // Hands items (after those read ahead) to the oldest waiting getters; what nobody waits for is
  // kept for the next get() while reading ahead is on, else given back.
  #hand(taken: Taken[]): void {
    const all = this.#buffer.length > 0 ? [...this.#buffer.splice(0), ...taken] : taken;
    let i = 0;
    while (i < all.length && this.#getters.length > 0) {
      const fut = this.#getters.shift()!;
      if (fut.done()) continue;
      fut.setResult(all[i++]!);
    }
    if (i === all.length) return;
    const rest = all.slice(i);
    if (Date.now() < this.#spareUntil && !this.#host.closed() && this.shutdownState !== "2") this.#buffer.push(...rest);
    else this.#track(this.giveBack(rest.map(([id]) => id)));
  }

  // close() waits for give-backs before the connections close.
  #track(back: Promise<unknown>): void {
    this.#givingBack.add(back);
    void back.then(() => this.#givingBack.delete(back));
  }

  #giveBackBuffer(): void {
    if (this.#buffer.length > 0) this.#track(this.giveBack(this.#buffer.splice(0).map(([id]) => id)));
  }

  // Items read ahead may wait `#grace` ms from the last taskDone() for a get().
  #spare(): void {
    this.#spareUntil = Date.now() + this.#grace;
    if (this.#spareTimer === null) this.#armSpare(this.#grace);
  }

  #armSpare(ms: number): void {
    this.#spareTimer = setTimeout(() => {
      this.#spareTimer = null;
      const left = this.#spareUntil - Date.now();
      if (left > 0) return this.#armSpare(left);
      if (this.#getters.length > 0) return; // a get() came: the read is its
      // Nobody came for what was read ahead: give it back, and read ahead again only once gets
      // follow acknowledgements closely.
      if (this.#buffer.length > 0 || this.#reading) this.#speculate = false;
      this.#unblock();
      this.#giveBackBuffer();
    }, ms);
    this.#spareTimer.unref();
  }

  #drop(fut: Future<Taken>): void {
    const at = this.#getters.indexOf(fut);
    if (at >= 0) this.#getters.splice(at, 1);
    if (this.#getters.length === 0) this.#unblock();
  }

  #fail(error: Error): void {
    for (const fut of this.#getters.splice(0)) if (!fut.done()) fut.setException(error);
  }

  // Ends the blocking read early (it returns nothing, or what it already took). Not waited for.
  #unblock(): boolean {
    const cmd = this.#host.command();
    if (!this.#reading || this.#readerId === null || cmd === null) return false;
    void cmd.sendCommand(["CLIENT", "UNBLOCK", String(this.#readerId)]).catch(() => {});
    return true;
  }

  // Putters waiting for room learn of items taken by blocking reads from the next DONE or TAKE of
  // this instance, or from a TAKEN script shortly after when none comes.
  #noteTaken(): void {
    this.#taken = true;
    if (this.#takenTimer !== null) return;
    this.#takenTimer = setTimeout(() => {
      this.#takenTimer = null;
      if (this.#taken && !this.#host.closed()) {
        this.#taken = false;
        void this.#host.eval(scripts.TAKEN, []).catch(() => {});
      }
    }, 20);
    this.#takenTimer.unref();
  }
}
