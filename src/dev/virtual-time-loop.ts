/**
 * `aiots/testing`: a loop with a virtual clock, for tests of timeouts and schedules that must not
 * sleep for real.
 *
 * How it works (Trio's MockClock with autojump): `time()` is a counter that starts at 0. Whenever
 * the loop is idle — no callback ready and no microtask pending, i.e. every task is blocked — the
 * clock jumps to the next timer's deadline and that timer fires. A test of a one-hour timeout
 * therefore runs in microseconds and always in the same order.
 *
 * What it cannot see: Node's own timers (`setTimeout`, `setInterval`, `timers/promises`) keep real
 * time; only aiots timers (`sleep`, `callLater`, `callAt`, `timeout`, `waitFor`, `wait`,
 * `asCompleted`) use the loop's clock. Real I/O still takes real time, and the clock may jump
 * while a task waits for it.
 * @module
 */
import { EventLoop, type Wakeup } from "../loop/index.ts";

interface PendingWakeup {
  when: number;
  wake: () => void;
  check: NodeJS.Immediate | null;
}

export interface VirtualTimeLoopOptions {
  /** Jump to the next timer whenever the loop is idle (default true). Off: only `advance()` moves time. */
  autojump?: boolean;
  /** The clock's starting value in seconds (default 0). */
  start?: number;
}

/**
 * An event loop whose `time()` is virtual and jumps to the next timer when every task is blocked.
 * @example
 * ```ts
 * import { run, sleep, getRunningLoop } from "aiots";
 * import { VirtualTimeLoop } from "aiots/testing";
 * await run(async () => {
 *   await sleep(3600); // returns at once
 *   console.log(getRunningLoop().time()); // 3600
 * }, { loopFactory: () => new VirtualTimeLoop() });
 * ```
 */
export class VirtualTimeLoop extends EventLoop {
  #now: number;
  readonly #autojump: boolean;
  // The pending wake-up: its deadline and callback (fired by an idle check or advance()).
  #pending: PendingWakeup | null = null;

  constructor(options: VirtualTimeLoopOptions = {}) {
    super();
    this.#now = options.start ?? 0;
    this.#autojump = options.autojump ?? true;
    if (typeof this.#now !== "number" || !Number.isFinite(this.#now)) {
      throw new TypeError(`VirtualTimeLoop start must be a finite number of seconds, got ${String(options.start)}`);
    }
  }

  override time(): number {
    return this.#now;
  }

  /**
   * Moves the clock forward by `seconds` and fires the timers that became due.
   * @throws {RangeError} for a negative or non-finite amount.
   */
  advance(seconds: number): void {
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError(`advance() takes a finite number of seconds >= 0, got ${String(seconds)}`);
    }
    this.#now += seconds;
    const pending = this.#pending;
    if (pending !== null && pending.when <= this.#now) this.#fire(pending);
  }

  protected override scheduleWakeup(when: number, wake: () => void): Wakeup {
    const pending: PendingWakeup = { when, wake, check: null };
    this.#pending = pending;
    if (when <= this.#now) pending.check = setImmediate(() => this.#fire(pending));
    else if (this.#autojump) pending.check = setImmediate(() => this.#jumpWhenIdle(pending));
    return {
      cancel: () => {
        if (pending.check !== null) clearImmediate(pending.check);
        pending.check = null;
        if (this.#pending === pending) this.#pending = null;
      },
    };
  }

  // Runs after the microtask queue is empty; if nothing is ready either, every task is blocked.
  #jumpWhenIdle(pending: PendingWakeup): void {
    pending.check = null;
    if (this.#pending !== pending) return;
    if (this.hasReadyCallbacks()) {
      pending.check = setImmediate(() => this.#jumpWhenIdle(pending));
      return;
    }
    if (pending.when > this.#now) this.#now = pending.when;
    this.#fire(pending);
  }

  #fire(pending: PendingWakeup): void {
    if (pending.check !== null) clearImmediate(pending.check);
    pending.check = null;
    if (this.#pending === pending) this.#pending = null;
    pending.wake();
  }

  override toString(): string {
    return super.toString().replace("<EventLoop", `<VirtualTimeLoop time=${this.#now}`);
  }
}
