/**
 * Queues for tasks: `Queue` (FIFO), `PriorityQueue`, `LifoQueue`, and their errors.
 *
 * How it works: getters and putters wait in FIFO `WaiterList`s. A put while getters wait hands its
 * item straight to the first getter (the item is never stored), so a newcomer's `get` cannot take
 * it. A get that frees a slot while putters wait grants that slot to the first putter (counted in
 * `#putClaims` until the putter runs and stores its item), so a newcomer's `put` cannot take it.
 * A getter woken and then cancelled before it ran gives its item back (to the next getter, else to
 * the front of the queue); a putter woken and then cancelled gives its slot to the next putter; in
 * both cases the cancelled call throws `CancelledError` and its item is neither lost nor duplicated.
 *
 * Subclasses choose the order through four hooks over their own storage, as asyncio's `_put` and
 * `_get` do: `storeItem`, `takeItem`, `restoreItem`, `storedCount`.
 * @module
 */
import { inspectSymbol } from "../core/index.ts";
import { compareLikePython, BinaryHeap } from "./internal/priority.ts";
import { RingBuffer } from "./internal/ring-buffer.ts";
import { RESOLVED_VOID, Waiter, WaiterList, lateCancel } from "./internal/waiter-list.ts";

/**
 * `getNowait()` on an empty queue (asyncio.QueueEmpty).
 * @example
 * ```ts
 * import { Queue, QueueEmpty } from "aiots";
 * try { new Queue<number>().getNowait(); } catch (e) { console.log(e instanceof QueueEmpty); } // true
 * ```
 */
export class QueueEmpty extends Error {
  override name = "QueueEmpty";
}

/**
 * `putNowait()` on a full queue (asyncio.QueueFull).
 * @example
 * ```ts
 * import { Queue, QueueFull } from "aiots";
 * const q = new Queue<number>(1);
 * q.putNowait(1);
 * try { q.putNowait(2); } catch (e) { console.log(e instanceof QueueFull); } // true
 * ```
 */
export class QueueFull extends Error {
  override name = "QueueFull";
}

/**
 * The queue was shut down (asyncio.QueueShutDown): `put` always throws it, `get` once the queue is
 * empty (at once after `shutdown(true)`). `for await` over a queue ends on it instead of throwing.
 * @example
 * ```ts
 * import { run, Queue, QueueShutDown } from "aiots";
 * await run(async () => {
 *   const q = new Queue<number>();
 *   q.shutdown();
 *   try { await q.put(1); } catch (e) { console.log(e instanceof QueueShutDown); } // true
 * });
 * ```
 */
export class QueueShutDown extends Error {
  override name = "QueueShutDown";
}

/**
 * An async iterator that yields what `get` returns until it throws QueueShutDown (the queue is
 * shut down and drained), as `async for` over asyncio.Queue's `get()` loops do; every other error
 * is rethrown. Shared with the Redis queue, whose `for await` means the same.
 */
export function getsUntilShutDown<T>(get: () => Promise<T>): AsyncIterator<T> {
  return {
    next: async (): Promise<IteratorResult<T>> => {
      try {
        return { value: await get(), done: false };
      } catch (error) {
        if (error instanceof QueueShutDown) return { value: undefined, done: true };
        throw error;
      }
    },
  };
}

const RUNNING = 0;
const SHUT_DOWN = 1;
const SHUT_DOWN_IMMEDIATE = 2;

function checkMaxsize(what: string, maxsize: unknown): number {
  if (typeof maxsize !== "number" || !Number.isInteger(maxsize)) {
    throw new TypeError(`${what}(maxsize) takes an integer (0 or less for no limit), got ${String(maxsize)}`);
  }
  return maxsize;
}

function joined(): void {}

/**
 * A FIFO queue for producer and consumer tasks (asyncio.Queue). `maxsize` > 0 bounds it: `put`
 * waits while it is full. Waiting getters and putters are served in arrival order.
 *
 * `for await (const item of queue)` takes items until the queue is shut down and drained.
 * `get()` resolves a promise with the item, so an item that is a promise, future or task would be
 * awaited on the way out: put `{ task }` to pass tasks through a queue (`getNowait()` returns items
 * as they are).
 * @example
 * ```ts
 * import { run, Queue, createTask } from "aiots";
 * await run(async () => {
 *   const queue = new Queue<number>(10);
 *   const consumer = createTask(async () => {
 *     let sum = 0;
 *     for await (const n of queue) { sum += n; queue.taskDone(); }
 *     return sum;
 *   });
 *   for (let i = 1; i <= 100; i++) await queue.put(i); // waits while 10 items are queued
 *   await queue.join();    // every item processed
 *   queue.shutdown();      // ends the consumer's loop
 *   console.log(await consumer); // 5050
 * });
 * ```
 */
export class Queue<T> implements AsyncIterable<T> {
  readonly #maxsize: number;
  readonly #items = new RingBuffer<T>();
  // How many items at the front of #items were given back by cancelled getters (they go first, in order).
  #restoredAtFront = 0;
  // Invariant: #getters non-empty implies storedCount() === 0 (puts hand items to getters).
  readonly #getters = new WaiterList();
  // Invariant: #putters non-empty implies full() (a freed slot goes to the first putter).
  readonly #putters = new WaiterList();
  // Slots granted to woken putters that have not stored their item yet.
  #putClaims = 0;
  #unfinished = 0;
  readonly #joiners = new WaiterList();
  #state: typeof RUNNING | typeof SHUT_DOWN | typeof SHUT_DOWN_IMMEDIATE = RUNNING;

  /**
   * @param maxsize the most items the queue holds; 0 or less means no limit.
   * @throws {TypeError} if `maxsize` is not an integer.
   */
  constructor(maxsize = 0) {
    this.#maxsize = checkMaxsize(new.target.name, maxsize);
  }

  /** The bound given to the constructor (0 or less: unbounded). */
  get maxsize(): number {
    return this.#maxsize;
  }

  /** How many items are in the queue. */
  qsize(): number {
    return this.storedCount();
  }

  /** Whether the queue holds no items. */
  empty(): boolean {
    return this.storedCount() === 0;
  }

  /** Whether the queue is at its `maxsize` (never, when unbounded), counting slots promised to waiting putters. */
  full(): boolean {
    return this.#maxsize > 0 && this.storedCount() + this.#putClaims >= this.#maxsize;
  }

  /**
   * Puts `item` in the queue, waiting while it is full.
   * @throws {QueueShutDown} if the queue is or gets shut down. {CancelledError} if the task is
   * cancelled while waiting (the item is not put).
   */
  put(item: T): Promise<void> {
    if (this.#state !== RUNNING) return Promise.reject(this.#shutDownError("put"));
    if (this.#putters.size === 0 && !this.full()) {
      this.#insert(item);
      return RESOLVED_VOID;
    }
    const waiter = new Waiter(`${this.constructor.name}.put`);
    waiter.item = item;
    this.#putters.push(waiter);
    return waiter.then((mark) => this.#putterWoken(waiter, mark));
  }

  /**
   * Puts `item` without waiting.
   * @throws {QueueFull} if the queue is full. {QueueShutDown} if it is shut down.
   */
  putNowait(item: T): void {
    if (this.#state !== RUNNING) throw this.#shutDownError("putNowait");
    if (this.#putters.size > 0 || this.full()) throw new QueueFull(`${this.constructor.name} is full (maxsize ${this.#maxsize})`);
    this.#insert(item);
  }

  /**
   * Takes the next item, waiting while the queue is empty.
   * @throws {QueueShutDown} if the queue is shut down and empty (at once after `shutdown(true)`).
   * @throws {CancelledError} if the task is cancelled while waiting (no item is taken).
   */
  get(): Promise<T> {
    if (this.storedCount() > 0) return Promise.resolve(this.#take());
    if (this.#state !== RUNNING) return Promise.reject(this.#shutDownError("get"));
    const waiter = new Waiter(`${this.constructor.name}.get`);
    this.#getters.push(waiter);
    return waiter.then((mark) => this.#getterWoken(waiter, mark));
  }

  /**
   * Takes the next item without waiting.
   * @throws {QueueEmpty} if the queue is empty. {QueueShutDown} if it is shut down and empty.
   */
  getNowait(): T {
    if (this.storedCount() > 0) return this.#take();
    if (this.#state !== RUNNING) throw this.#shutDownError("getNowait");
    throw new QueueEmpty(`${this.constructor.name} is empty`);
  }

  /**
   * Marks one item taken with `get` as processed; `join()` resolves when every put item is.
   * @throws {Error} if called more times than items were put.
   */
  taskDone(): void {
    if (this.#unfinished <= 0) {
      throw new Error("taskDone() called more times than items were put: call it once per item taken with get()");
    }
    this.#unfinished -= 1;
    if (this.#unfinished === 0) this.#joiners.wakeAll();
  }

  /**
   * Waits until every item put has been marked processed with `taskDone()`.
   * @throws {CancelledError} if the task is cancelled while waiting.
   */
  join(): Promise<void> {
    if (this.#unfinished === 0) return RESOLVED_VOID;
    const waiter = new Waiter(`${this.constructor.name}.join`);
    this.#joiners.push(waiter);
    return waiter.then(joined);
  }

  /**
   * Shuts the queue down: `put` throws `QueueShutDown` from now on, and so do waiting putters;
   * getters drain the remaining items, then get `QueueShutDown`. With `immediate`, the remaining
   * items are dropped (counted as done for `join()`) and waiting getters fail at once.
   */
  shutdown(immediate = false): void {
    if (immediate) {
      this.#state = SHUT_DOWN_IMMEDIATE;
      while (this.storedCount() > 0) {
        this.takeItem();
        if (this.#unfinished > 0) this.#unfinished -= 1;
      }
      this.#restoredAtFront = 0;
      if (this.#unfinished === 0) this.#joiners.wakeAll();
    } else if (this.#state === RUNNING) {
      this.#state = SHUT_DOWN;
    }
    this.#getters.failAll(() => this.#shutDownError("get"));
    this.#putters.failAll(() => this.#shutDownError("put"));
  }

  /** Iterates with `get()` until the queue is shut down and drained. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return getsUntilShutDown(() => this.get());
  }

  /** Stores an item (hook for subclasses; FIFO here). */
  protected storeItem(item: T): void {
    this.#items.push(item);
  }

  /** Removes and returns the next item (hook for subclasses). Called only when `storedCount() > 0`. */
  protected takeItem(): T {
    if (this.#restoredAtFront > 0) this.#restoredAtFront -= 1;
    return this.#items.shift();
  }

  /**
   * Puts back an item a cancelled getter gave up (hook for subclasses). It was put before every
   * stored item, and given-back items arrive in the order they were put.
   */
  protected restoreItem(item: T): void {
    this.#items.insertAt(this.#restoredAtFront, item);
    this.#restoredAtFront += 1;
  }

  /** How many items are stored (hook for subclasses). */
  protected storedCount(): number {
    return this.#items.size;
  }

  // Counts a new item and hands it to the first getter, or stores it.
  #insert(item: T): void {
    this.#unfinished += 1;
    const getter = this.#getters.shift();
    if (getter === null) {
      this.storeItem(item);
    } else {
      getter.item = item;
      getter.wake();
    }
  }

  #take(): T {
    const item = this.takeItem();
    this.#wakePutters();
    return item;
  }

  #wakePutters(): void {
    while (this.#putters.size > 0 && !this.full()) {
      this.#putClaims += 1;
      this.#putters.shift()!.wake();
    }
  }

  // Runs in the woken putter's task.
  #putterWoken(waiter: Waiter, mark: number): void {
    this.#putClaims -= 1;
    const late = lateCancel(mark);
    if (late !== null) {
      this.#wakePutters();
      throw late;
    }
    if (this.#state !== RUNNING) throw this.#shutDownError("put");
    this.#insert(waiter.item as T);
    // Handed straight to a getter, the item left its slot free for the next putter.
    this.#wakePutters();
  }

  // Runs in the woken getter's task.
  #getterWoken(waiter: Waiter, mark: number): T {
    const item = waiter.item as T;
    waiter.item = undefined;
    const late = lateCancel(mark);
    if (late !== null) {
      this.#giveBack(item);
      throw late;
    }
    return item;
  }

  // An item handed to a getter that was cancelled before it ran: to the next getter, else back in front.
  #giveBack(item: T): void {
    if (this.#state === SHUT_DOWN_IMMEDIATE) {
      // Dropped like the items the shutdown drained.
      this.taskDone();
      return;
    }
    const getter = this.#getters.shift();
    if (getter !== null) {
      getter.item = item;
      getter.wake();
    } else {
      this.restoreItem(item);
    }
  }

  #shutDownError(what: string): QueueShutDown {
    return new QueueShutDown(`${this.constructor.name}.${what}(): the queue is shut down`);
  }

  toString(): string {
    const parts = [`maxsize=${this.#maxsize}`, `qsize=${this.storedCount()}`];
    if (this.#getters.size > 0) parts.push(`getters=${this.#getters.size}`);
    if (this.#putters.size > 0) parts.push(`putters=${this.#putters.size}`);
    if (this.#unfinished > 0) parts.push(`unfinished=${this.#unfinished}`);
    if (this.#state !== RUNNING) parts.push(this.#state === SHUT_DOWN ? "shut down" : "shut down (immediate)");
    return `<${this.constructor.name} ${parts.join(" ")}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

/**
 * A queue that returns the most recently put item first (asyncio.LifoQueue).
 * @example
 * ```ts
 * import { LifoQueue } from "aiots";
 * const stack = new LifoQueue<number>();
 * stack.putNowait(1); stack.putNowait(2);
 * console.log(stack.getNowait()); // 2
 * ```
 */
export class LifoQueue<T> extends Queue<T> {
  readonly #stack: T[] = [];
  // How many items at the bottom of #stack were given back by cancelled getters.
  #restoredAtBottom = 0;

  protected override storeItem(item: T): void {
    this.#stack.push(item);
  }

  protected override takeItem(): T {
    const item = this.#stack.pop() as T;
    if (this.#restoredAtBottom > this.#stack.length) this.#restoredAtBottom = this.#stack.length;
    return item;
  }

  // The given-back item is older than every stored one: it goes to the bottom, above older given-back ones.
  protected override restoreItem(item: T): void {
    this.#stack.splice(this.#restoredAtBottom, 0, item);
    this.#restoredAtBottom += 1;
  }

  protected override storedCount(): number {
    return this.#stack.length;
  }
}

/** Options of `PriorityQueue`. */
export interface PriorityQueueOptions<T> {
  /** Orders items: negative when `a` comes first. Default: Python's ordering (see `PriorityQueue`). */
  compare?: (a: T, b: T) => number;
}

/**
 * A queue that returns the smallest item first (asyncio.PriorityQueue); items that compare equal
 * come out in the order they were put.
 *
 * Without a `compare` option, items are ordered as Python orders them: numbers (and bigints,
 * booleans) by value, strings by their code units, arrays element by element like tuples (`[priority,
 * data]` works as in asyncio), a shorter array first when it is a prefix. Items that cannot be
 * compared (a number with a string, plain objects) throw `TypeError` when they meet.
 * @example
 * ```ts
 * import { PriorityQueue } from "aiots";
 * const jobs = new PriorityQueue<[number, string]>();
 * jobs.putNowait([2, "later"]);
 * jobs.putNowait([1, "first"]);
 * console.log(jobs.getNowait()); // [1, "first"]
 * const byLength = new PriorityQueue<string>(0, { compare: (a, b) => a.length - b.length });
 * ```
 */
export class PriorityQueue<T> extends Queue<T> {
  readonly #heap: BinaryHeap<T>;

  /**
   * @param maxsize the most items the queue holds; 0 or less means no limit.
   * @throws {TypeError} if `maxsize` is not an integer or `compare` is not a function.
   */
  constructor(maxsize = 0, options: PriorityQueueOptions<T> = {}) {
    super(maxsize);
    const compare = options.compare ?? compareLikePython;
    if (typeof compare !== "function") throw new TypeError("PriorityQueue option compare must be a function (a, b) => number");
    this.#heap = new BinaryHeap<T>(compare);
  }

  protected override storeItem(item: T): void {
    this.#heap.push(item);
  }

  protected override takeItem(): T {
    return this.#heap.pop();
  }

  protected override restoreItem(item: T): void {
    this.#heap.pushOldest(item);
  }

  protected override storedCount(): number {
    return this.#heap.size;
  }
}
