/**
 * Waiters and the FIFO lines they wait in, shared by the locks, the barrier and the queues.
 *
 * How it works: a `Waiter` is a Future that is also a node of an intrusive doubly linked list, so
 * joining a line, leaving it from the middle and waking its head are O(1) and allocate nothing but
 * the waiter. A waiter unlinks itself when it is cancelled while still in line, so a line holds
 * only pending waiters and waking the head never meets a cancelled one. Wake-ups unlink the waiter
 * before settling it.
 *
 * The primitives hand over directly: a release gives the lock or permit to the head waiter (the
 * primitive stays taken), a put gives its item to the first getter. A newcomer therefore never
 * overtakes a waiter, even in the turn between the wake-up and the waiter running again.
 *
 * The one race left is a cancel that lands after the wake-up but before the woken task runs: the
 * future is already done, so the task keeps the cancel pending for its next await. `cancelMark()`,
 * taken when the wait starts, and `lateCancel()`, called when the waiter resumes, detect it and turn
 * it into a `CancelledError` thrown from the wait itself; the primitive then passes on what the
 * wake-up gave (permit, item, notification) to the next in line, as asyncio does.
 */
import { type CancelledError, Future, currentTask, type Task } from "../../core/index.ts";

/**
 * The calling task's `cancelling()` count (or -1 outside a task), taken before a wait so that
 * `lateCancel` can tell whether a cancel was requested during it.
 */
export function cancelMark(): number {
  const task = currentTask();
  return task === null ? -1 : task.cancelling();
}

/**
 * Called where a woken waiter resumes, inside its task: the `CancelledError` of a cancel requested
 * since `mark` that the task has not received yet, now consumed so that it is thrown once; or null.
 */
export function lateCancel(mark: number): CancelledError | null {
  if (mark < 0) return null;
  const task = currentTask();
  if (task === null || task.cancelling() <= mark) return null;
  return takePendingCancel(task);
}

function ignore(): void {}

// A task with an undelivered cancel cancels the next pending future it starts awaiting (see
// `Task.suspendOn`): awaiting a fresh probe consumes the pending cancel through the public surface.
function takePendingCancel(task: Task<unknown>): CancelledError | null {
  const probe = new Future<void>({ loop: task.getLoop() });
  void probe.then(undefined, ignore);
  if (probe.cancelled()) {
    try {
      probe.result();
    } catch (error) {
      return error as CancelledError;
    }
  }
  // Nothing was pending (the cancel was taken back with uncancel()): withdraw the probe.
  probe.cancel();
  return null;
}

/**
 * A future waiting in a `WaiterList`. Resolves to a number whose meaning belongs to the primitive
 * (usually the `cancelMark()` taken when it started waiting); `item` carries a payload such as a
 * queue item, which must not go through `setResult` because a thenable item would be adopted.
 */
export class Waiter extends Future<number> implements LineNode {
  // Invariant: list !== null exactly while this waiter is pending and linked into list.
  list: WaiterList | null = null;
  prev: Waiter | null = null;
  next: Waiter | null = null;
  /** What the waiter waits for, for reprs ("Lock.acquire"). */
  readonly what: string;
  /** `cancelMark()` when the wait began. */
  readonly mark: number;
  /** A payload handed over with the wake-up, or carried while waiting (a putter's item). */
  item: unknown = undefined;

  constructor(what: string) {
    super();
    this.what = what;
    this.mark = cancelMark();
  }

  /** Cancelling a waiter that is still in line takes it out of the line. */
  override cancel(msg?: string): boolean {
    if (!super.cancel(msg)) return false;
    this.list?.remove(this);
    return true;
  }

  /** Wakes the waiter with its mark (it must be out of its list: see `WaiterList.shift`). */
  wake(): void {
    this.setResult(this.mark);
  }

  protected override reprInfo(): string[] {
    const info = super.reprInfo();
    info[0] = this.what;
    return info;
  }
}

/** What a `WaiterList` links: a waiter knows its line and its neighbours. */
export interface LineNode {
  // The line this node is in (its WaiterList), or null.
  list: object | null;
  prev: LineNode | null;
  next: LineNode | null;
}

/** A FIFO line of pending waiters (an intrusive doubly linked list). */
export class WaiterList<W extends LineNode = Waiter> {
  #head: W | null = null;
  #tail: W | null = null;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(waiter: W): void {
    (waiter as LineNode).list = this;
    waiter.prev = this.#tail;
    waiter.next = null;
    if (this.#tail === null) this.#head = waiter;
    else this.#tail.next = waiter;
    this.#tail = waiter;
    this.#size += 1;
  }

  /** Unlinks and returns the first waiter, or null when the line is empty. */
  shift(): W | null {
    const waiter = this.#head;
    if (waiter !== null) this.remove(waiter);
    return waiter;
  }

  remove(waiter: W): void {
    if (waiter.list !== this) return;
    const prev = waiter.prev as W | null;
    const next = waiter.next as W | null;
    if (prev === null) this.#head = next;
    else prev.next = next;
    if (next === null) this.#tail = prev;
    else next.prev = prev;
    waiter.list = null;
    waiter.prev = null;
    waiter.next = null;
    this.#size -= 1;
  }

  /** Wakes every waiter in line, in order. */
  wakeAll(this: WaiterList): void {
    for (let w = this.shift(); w !== null; w = this.shift()) w.wake();
  }

  /** Fails every waiter in line with a fresh error from `makeError`, in order. */
  failAll(this: WaiterList, makeError: () => Error): void {
    for (let w = this.shift(); w !== null; w = this.shift()) w.setException(makeError());
  }
}

/** Resolved promises shared by the fast paths: an uncontended acquire allocates nothing. */
export const RESOLVED_TRUE: Promise<true> = Promise.resolve(true);
export const RESOLVED_VOID: Promise<void> = Promise.resolve();
