/**
 * A binary min-heap of timers ordered by deadline, then by scheduling order.
 *
 * Cancelled timers are not removed eagerly (that would cost a search); they stay until they reach
 * the top or until they outnumber the live ones, when the heap is rebuilt without them. Cancelling
 * many sleeping tasks therefore costs O(n log n), not O(n^2).
 */

export interface HeapTimer {
  readonly whenSeconds: number;
  readonly seq: number;
  isCancelled(): boolean;
}

function before(a: HeapTimer, b: HeapTimer): boolean {
  return a.whenSeconds < b.whenSeconds || (a.whenSeconds === b.whenSeconds && a.seq < b.seq);
}

export class TimerHeap<T extends HeapTimer> {
  // Invariant: items[i] is not after items[2i+1] nor items[2i+2].
  #items: T[] = [];
  // Invariant: the number of cancelled timers still in #items.
  #cancelled = 0;

  get size(): number {
    return this.#items.length;
  }

  push(timer: T): void {
    const items = this.#items;
    items.push(timer);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent]!;
      if (!before(timer, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = timer;
  }

  /** The earliest live timer, dropping cancelled ones from the top. */
  peek(): T | undefined {
    for (;;) {
      const top = this.#items[0];
      if (top === undefined || !top.isCancelled()) return top;
      this.#popTop();
      this.#cancelled -= 1;
    }
  }

  /** Removes and returns the earliest live timer. */
  pop(): T | undefined {
    const top = this.peek();
    if (top !== undefined) this.#popTop();
    return top;
  }

  /** Records that a timer in the heap was cancelled; rebuilds when most of the heap is dead. */
  noteCancelled(): void {
    this.#cancelled += 1;
    if (this.#items.length > 64 && this.#cancelled * 2 > this.#items.length) {
      const live = this.#items.filter((t) => !t.isCancelled());
      live.sort((a, b) => (before(a, b) ? -1 : 1));
      this.#items = live;
      this.#cancelled = 0;
    }
  }

  clear(): T[] {
    const all = this.#items;
    this.#items = [];
    this.#cancelled = 0;
    return all;
  }

  #popTop(): void {
    const items = this.#items;
    const last = items.pop()!;
    if (items.length === 0) return;
    let i = 0;
    const n = items.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && before(items[r]!, items[l]!) ? r : l;
      if (!before(items[child]!, last)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
  }
}
