/**
 * `Channels`: named groups of WebSocket connections for fan-out, in memory.
 * @module
 */
import { inspectSymbol } from "../core/index.ts";
import { kSendNowait, type WebSocket } from "./connection.ts";

/**
 * What `app.channels` needs of a backend (`new Application({ channels })`): the in-memory `Channels`,
 * or one that spans processes (`redisChannels()` in aiots/redis, whose methods return promises).
 * `members` and `names` are about this process's connections.
 */
export interface ChannelsBackend {
  /** Adds `ws` to group `name`; it leaves every group when it closes. */
  join(name: string, ws: WebSocket): void | Promise<void>;
  /** Removes `ws` from group `name`. */
  leave(name: string, ws: WebSocket): void | Promise<void>;
  /** Sends `message` to the members of group `name`; says how many connections (or processes) it reached. */
  broadcast(name: string, message: string | Uint8Array): number | Promise<number>;
  /** This process's members of group `name`. */
  members(name: string): WebSocket[];
  /** The groups with members in this process. */
  names(): string[];
}

/**
 * Named groups of connections (`app.channels`). A connection leaves every group it joined when it
 * closes. `broadcast()` never waits: like websockets' `broadcast()`, it skips connections that are
 * not open or whose send buffer is over its high-water mark (a slow consumer must not hold up the
 * others), and says how many it reached.
 * @example
 * ```ts
 * import { Application } from "aiots/http";
 * const app = new Application();
 * app.websocket("/chat", async (request, ws) => {
 *   app.channels.join("chat", ws);
 *   for await (const message of ws) app.channels.broadcast("chat", message);
 * });
 * ```
 */
export class Channels implements ChannelsBackend {
  readonly #groups = new Map<string, Set<WebSocket>>();
  // Connections already watched for their close (each is watched once, whatever it joins).
  readonly #watched = new WeakSet<WebSocket>();
  readonly #highWaterMark: number;

  /** @param highWaterMark bytes buffered over which `broadcast` skips a connection (default 1 MiB). */
  constructor(highWaterMark = 1024 * 1024) {
    this.#highWaterMark = highWaterMark;
  }

  /** Adds `ws` to group `name` (creating the group). A closed connection is not added. */
  join(name: string, ws: WebSocket): void {
    if (ws.state === "closed") return;
    let group = this.#groups.get(name);
    if (group === undefined) {
      group = new Set();
      this.#groups.set(name, group);
    }
    group.add(ws);
    if (!this.#watched.has(ws)) {
      this.#watched.add(ws);
      ws.raw.once("close", () => this.#forget(ws));
    }
  }

  /** Removes `ws` from group `name`; an empty group disappears. */
  leave(name: string, ws: WebSocket): void {
    const group = this.#groups.get(name);
    if (group === undefined) return;
    group.delete(ws);
    if (group.size === 0) this.#groups.delete(name);
  }

  /**
   * Sends `message` to every open member of group `name` that is keeping up; returns how many.
   * @throws {TypeError} for a message that is neither a string nor a Uint8Array.
   */
  broadcast(name: string, message: string | Uint8Array): number {
    if (typeof message !== "string" && !(message instanceof Uint8Array)) {
      throw new TypeError("broadcast() sends a string (text) or a Uint8Array (binary)");
    }
    const group = this.#groups.get(name);
    if (group === undefined) return 0;
    const binary = typeof message !== "string";
    let sent = 0;
    for (const ws of group) {
      if (ws[kSendNowait](message, binary, this.#highWaterMark)) sent++;
    }
    return sent;
  }

  /** The members of group `name` (a copy). */
  members(name: string): WebSocket[] {
    return [...(this.#groups.get(name) ?? [])];
  }

  /** The names of the groups that have members. */
  names(): string[] {
    return [...this.#groups.keys()];
  }

  toString(): string {
    const groups = [...this.#groups].map(([name, set]) => `${name}=${set.size}`);
    return `<Channels ${groups.join(" ")}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  #forget(ws: WebSocket): void {
    for (const name of [...this.#groups.keys()]) this.leave(name, ws);
  }
}
