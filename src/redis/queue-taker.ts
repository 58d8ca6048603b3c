/**
 * How a `RedisQueue` instance takes items for its waiting `get()` calls.
 *
 * The getters wait in the process, each on its own future. One loop per instance (the pump) feeds
 * them: it blocks in `XREADGROUP ... COUNT <getters> BLOCK` on a connection of its own and hands
 * each item Redis delivers to the oldest getter still waiting. That is one command per item, and a
 * new item wakes one blocked consumer in the whole group, as Redis serves blocked consumer-group
 * readers one entry each. Now and then (every poll interval, after a `returned` or `shutdown`
 * event, and on the first get) the pump runs the non-blocking TAKE script instead, which first
 * claims items whose holder stopped renewing them and reports the shutdown state.
 *
 * A cancelled get() takes nothing: the getter stops waiting at once (its future is cancelled, no
 * round trip), and an item the read brings afterwards goes to the next getter of this instance or,
 * when none waits, is given back (GIVE_BACK: expired at once, so the next take anywhere gets it).
 * When the last getter leaves while a read is blocked, `CLIENT UNBLOCK` on the command connection
 * ends that read early so that it usually brings nothing; it is never waited for. Every item Redis
 * hands to this consumer is therefore returned by exactly one get(), or given back, or (when the
 * connection dropped with it in the reply) left in this consumer's pending list, unrenewed, to be
 * delivered again after `visibilityTimeout`.
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

  constructor(host: TakerHost) {
    this.#host = host;
  }

  /** How many get() calls wait. */
  get waiting(): number {
    return this.#getters.length;
  }

  /**
   * Waits for an item for one get().
   * @throws {QueueShutDown} once the queue is shut down and drained; {CancelledError} (nothing taken).
   */
  async take(): Promise<Taken> {
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
      while (this.#getters.length > 0 && !host.closed()) {
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
              if (this.shutdownState === "0") this.shutdownState = "1";
              this.#fail(host.shutDownError());
              continue;
            }
            this.shutdownState = "0"; // empty: not shut down (its keys were deleted, if it was)
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
      reply = await reader.sendCommand<StreamReply>(["XREADGROUP", "GROUP", host.group, host.consumer, "COUNT", String(this.#getters.length), "BLOCK", String(host.pollMs), "STREAMS", host.stream, ">"]);
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

  // Hands items to the oldest waiting getters; what nobody waits for is given back.
  #hand(taken: Taken[]): void {
    let i = 0;
    while (i < taken.length && this.#getters.length > 0) {
      const fut = this.#getters.shift()!;
      if (fut.done()) continue;
      fut.setResult(taken[i++]!);
    }
    if (i < taken.length) {
      const back = this.giveBack(taken.slice(i).map(([id]) => id));
      // close() waits for give-backs before the connections close.
      this.#givingBack.add(back);
      void back.then(() => this.#givingBack.delete(back));
    }
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
