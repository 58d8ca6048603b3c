/**
 * `redisChannels()`: an `app.channels` backend on Redis pub/sub, so that a broadcast reaches the
 * members of a group in every worker process and on every machine.
 *
 * How it works: each process keeps its own members in an in-memory `Channels`. A process subscribes
 * to the Redis channel of a group while it has members in it (and unsubscribes when the last one
 * leaves or closes). `broadcast()` publishes; every subscribed process, this one included, sends the
 * message to its local members as `Channels.broadcast` does (skipping closed and slow connections).
 * The first byte of a published payload says text (`t`) or binary (`b`).
 * @module
 */
import { awaitForeign, inspectSymbol } from "../core/index.ts";
import { Channels, type ChannelsBackend, type WebSocket } from "../ws/index.ts";
import { checkRedisUrl, checkSeconds, openClient, redactUrl, type RedisClient, type RedisConnectOptions } from "./connection.ts";

/** Options of `redisChannels()`. */
export interface RedisChannelsOptions extends RedisConnectOptions {
  /** Prefix of the Redis channel names (default `"aiots:channels:"`); apps sharing a Redis pick different ones. */
  prefix?: string;
  /** Bytes buffered over which a local member is skipped (default 1 MiB, as `Channels`). */
  highWaterMark?: number;
}

const TEXT = 0x74; // "t"
const BINARY = 0x62; // "b"

/**
 * Groups of WebSocket connections whose broadcasts cross processes through Redis; pass it to
 * `new Application({ channels })`. `join`, `leave` and `broadcast` return promises: `await join()`
 * means this process is subscribed, so a broadcast from anywhere after it reaches `ws`; `broadcast`
 * resolves to the number of processes that received the message (each sends it to its own members).
 * Messages published while a process was disconnected from Redis are lost for it (pub/sub keeps
 * nothing), as a WebSocket message to a disconnected client is.
 * @example
 * ```ts
 * import { Application } from "aiots/http";
 * import { redisChannels } from "aiots/redis";
 * const app = new Application({ channels: redisChannels({ url: "redis://127.0.0.1:6379" }) });
 * app.websocket("/chat", async (request, ws) => {
 *   await app.channels.join("chat", ws);
 *   for await (const message of ws) await app.channels.broadcast("chat", message);
 * });
 * ```
 */
export class RedisChannels implements ChannelsBackend, AsyncDisposable {
  readonly #local: Channels;
  readonly #url: URL;
  readonly #connectTimeout: number;
  readonly #prefix: string;
  #clients: Promise<{ pub: RedisClient; sub: RedisClient }> | null = null;
  // Groups this process is subscribed to (or subscribing), with the subscription in flight.
  readonly #subscribed = new Map<string, Promise<void>>();
  readonly #watched = new WeakSet<WebSocket>();
  #closed = false;

  /** @throws {TypeError} for a bad URL or prefix. {RangeError} for a bad connectTimeout. */
  constructor(options: RedisChannelsOptions) {
    const who = "redisChannels()";
    if (options === null || typeof options !== "object") throw new TypeError(`${who}: options with a url are required, e.g. { url: "redis://127.0.0.1:6379" }`);
    this.#url = checkRedisUrl(options.url, who);
    this.#connectTimeout = checkSeconds(options.connectTimeout ?? 10, "connectTimeout", who);
    const prefix = options.prefix ?? "aiots:channels:";
    if (typeof prefix !== "string") throw new TypeError(`${who}: prefix must be a string`);
    this.#prefix = prefix;
    this.#local = new Channels(options.highWaterMark);
  }

  /**
   * Adds `ws` to group `name` and makes sure this process is subscribed to the group.
   * @throws {Error} when Redis cannot be reached (the connection is added locally all the same).
   */
  async join(name: string, ws: WebSocket): Promise<void> {
    this.#checkOpen();
    this.#local.join(name, ws);
    if (!this.#watched.has(ws)) {
      this.#watched.add(ws);
      // Runs after Channels' own close listener has removed ws from its groups.
      ws.raw.once("close", () => {
        for (const group of [...this.#subscribed.keys()]) void this.#maybeUnsubscribe(group);
      });
    }
    if (this.#local.members(name).length === 0) return;
    let subscribing = this.#subscribed.get(name);
    if (subscribing === undefined) {
      subscribing = this.#subscribe(name);
      this.#subscribed.set(name, subscribing);
      subscribing.catch(() => {
        if (this.#subscribed.get(name) === subscribing) this.#subscribed.delete(name);
      });
    }
    await awaitForeign(subscribing);
  }

  /** Removes `ws` from group `name`; the process unsubscribes when it has no member left there. */
  async leave(name: string, ws: WebSocket): Promise<void> {
    this.#local.leave(name, ws);
    await this.#maybeUnsubscribe(name);
  }

  /**
   * Publishes `message` to group `name` in every process; resolves to how many processes got it.
   * @throws {TypeError} for a message that is neither a string nor a Uint8Array. {Error} when Redis cannot be reached.
   */
  async broadcast(name: string, message: string | Uint8Array): Promise<number> {
    if (typeof message !== "string" && !(message instanceof Uint8Array)) {
      throw new TypeError("broadcast() sends a string (text) or a Uint8Array (binary)");
    }
    this.#checkOpen();
    const body = typeof message === "string" ? Buffer.from(message, "utf8") : message;
    const payload = Buffer.allocUnsafe(body.length + 1);
    payload[0] = typeof message === "string" ? TEXT : BINARY;
    payload.set(body, 1);
    const { pub } = await awaitForeign(this.#connected());
    return await awaitForeign(pub.publish(this.#prefix + name, payload));
  }

  /** This process's members of group `name` (a copy). */
  members(name: string): WebSocket[] {
    return this.#local.members(name);
  }

  /** The groups with members in this process. */
  names(): string[] {
    return this.#local.names();
  }

  /** Closes the Redis connections (local members stay connected, but no longer get broadcasts). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const clients = this.#clients;
    if (clients === null) return;
    try {
      const { pub, sub } = await clients;
      await Promise.allSettled([pub.close(), sub.close()]);
    } catch {
      // Never connected.
    }
  }

  /** `await using channels = redisChannels(...)` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  toString(): string {
    const groups = this.#local.names().map((name) => `${name}=${this.#local.members(name).length}`);
    return `<RedisChannels ${redactUrl(this.#url)}${groups.length > 0 ? " " + groups.join(" ") : ""}${this.#closed ? " closed" : ""}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  async #subscribe(name: string): Promise<void> {
    const { sub } = await this.#connected();
    await sub.subscribe(this.#prefix + name, (payload: Buffer) => this.#deliver(name, payload), true);
  }

  #deliver(name: string, payload: Buffer): void {
    if (payload.length === 0) return;
    if (payload[0] === TEXT) this.#local.broadcast(name, payload.toString("utf8", 1));
    else if (payload[0] === BINARY) this.#local.broadcast(name, payload.subarray(1));
  }

  async #maybeUnsubscribe(name: string): Promise<void> {
    if (this.#local.members(name).length > 0) return;
    const subscribing = this.#subscribed.get(name);
    if (subscribing === undefined || this.#closed) return;
    this.#subscribed.delete(name);
    try {
      await subscribing;
      const { sub } = await this.#connected();
      // A member that joined meanwhile re-subscribes through join().
      await sub.unsubscribe(this.#prefix + name);
    } catch {
      // Not subscribed, or Redis is gone: nothing to undo.
    }
  }

  #connected(): Promise<{ pub: RedisClient; sub: RedisClient }> {
    if (this.#clients === null) {
      const who = "redisChannels()";
      const opening = (async () => {
        const pub = await openClient(this.#url, this.#connectTimeout, who, "aiots-channels-pub");
        try {
          const sub = await openClient(this.#url, this.#connectTimeout, who, "aiots-channels-sub");
          return { pub, sub };
        } catch (error) {
          pub.destroy();
          throw error;
        }
      })();
      this.#clients = opening;
      opening.catch(() => {
        if (this.#clients === opening) this.#clients = null;
      });
    }
    return this.#clients;
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error("redisChannels() is closed");
  }
}

/**
 * A channels backend on Redis pub/sub for `new Application({ channels })`: broadcasts reach the
 * group's members in every process that uses the same Redis (and prefix). Connects on first use.
 * @example
 * ```ts
 * import { Application } from "aiots/http";
 * import { redisChannels } from "aiots/redis";
 * const app = new Application({ channels: redisChannels({ url: "redis://127.0.0.1:6379" }) });
 * ```
 * @throws {TypeError} for a bad URL.
 */
export function redisChannels(options: RedisChannelsOptions): RedisChannels {
  return new RedisChannels(options);
}
