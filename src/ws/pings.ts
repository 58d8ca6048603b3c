/**
 * `PingTracker`: pings waiting for their pong, matched by payload as RFC 6455 §5.5.3 allows.
 *
 * A pong answers the ping with the same payload and, since a peer may answer only the latest of
 * several pings, every ping sent before it too (websockets does the same). The round trip of the
 * matched ping is the connection's latency.
 * @module
 */
import { randomBytes } from "node:crypto";
import type { AbstractEventLoop, Future } from "../core/index.ts";

interface PendingPing {
  payload: Buffer;
  sentAt: number;
  // null for keepalive pings, which nobody awaits.
  waiter: Future<number> | null;
}

/** @internal the pings of one connection. */
export class PingTracker {
  readonly #loop: AbstractEventLoop;
  // In the order sent (invariant: sentAt is non-decreasing).
  #pending: PendingPing[] = [];
  /** Round trip of the last answered ping, seconds; 0 before the first. */
  latency = 0;

  constructor(loop: AbstractEventLoop) {
    this.#loop = loop;
  }

  get size(): number {
    return this.#pending.length;
  }

  /**
   * Registers a ping about to be sent and returns its payload (4 random bytes when none is given).
   * @throws {Error} when a ping with the same payload is already waiting.
   */
  add(data: string | Uint8Array | undefined, waiter: Future<number> | null): Buffer {
    const payload = data === undefined ? randomBytes(4) : typeof data === "string" ? Buffer.from(data) : Buffer.from(data);
    if (payload.byteLength > 125) throw new RangeError(`a ping payload is at most 125 bytes, got ${payload.byteLength}`);
    if (this.#pending.some((p) => p.payload.equals(payload))) {
      throw new Error("a ping with this payload is already waiting for its pong: use another payload or none");
    }
    this.#pending.push({ payload, sentAt: this.#loop.time(), waiter });
    return payload;
  }

  /** The oldest unanswered ping's send time, or null. */
  oldest(): number | null {
    return this.#pending[0]?.sentAt ?? null;
  }

  /** A pong arrived: settles its ping and every earlier one. Returns false for an unsolicited pong. */
  pong(payload: Buffer): boolean {
    const index = this.#pending.findIndex((p) => p.payload.equals(payload));
    if (index < 0) return false;
    const now = this.#loop.time();
    const answered = this.#pending.splice(0, index + 1);
    this.latency = now - answered[index]!.sentAt;
    for (const p of answered) {
      if (p.waiter !== null && !p.waiter.done()) p.waiter.setResult(now - p.sentAt);
    }
    return true;
  }

  /** The connection closed: wakes every waiter (they then throw ConnectionClosed). */
  abandon(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const p of pending) {
      if (p.waiter !== null && !p.waiter.done()) p.waiter.setResult(-1);
    }
  }

  /** Forgets one waiter's ping (its ping() call was cancelled). */
  forget(waiter: Future<number>): void {
    this.#pending = this.#pending.filter((p) => p.waiter !== waiter);
  }
}
