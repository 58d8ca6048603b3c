/**
 * A growable ring buffer: O(1) push and shift at either end, for FIFO queues.
 *
 * How it works: items live in an array whose length is a power of two; `#head` is the index of the
 * first item and `#size` how many follow it (wrapping around). When full, the array doubles and the
 * items are copied out in order, so the head is back at 0. `Array.prototype.shift` would be O(n) on
 * the large arrays an unbounded queue can build up.
 */
export class RingBuffer<T> {
  // Invariant: #slots.length is a power of two >= 4 and > #size; slots outside the live range are undefined.
  #slots: (T | undefined)[] = new Array<T | undefined>(4);
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    if (this.#size === this.#slots.length) this.#grow();
    this.#slots[(this.#head + this.#size) & (this.#slots.length - 1)] = item;
    this.#size += 1;
  }

  /** Removes and returns the first item. The caller checks `size` first. */
  shift(): T {
    const slots = this.#slots;
    const item = slots[this.#head] as T;
    slots[this.#head] = undefined;
    this.#head = (this.#head + 1) & (slots.length - 1);
    this.#size -= 1;
    return item;
  }

  /** Inserts `item` so that it becomes the item at `index` (0 = first). O(index). */
  insertAt(index: number, item: T): void {
    if (index < 0 || index > this.#size) throw new RangeError(`insertAt(${index}) outside 0..${this.#size}`);
    if (this.#size === this.#slots.length) this.#grow();
    const mask = this.#slots.length - 1;
    this.#head = (this.#head - 1) & mask;
    this.#size += 1;
    // Slide the first `index` items one step towards the front, then drop `item` into the gap.
    for (let i = 0; i < index; i++) {
      this.#slots[(this.#head + i) & mask] = this.#slots[(this.#head + i + 1) & mask];
    }
    this.#slots[(this.#head + index) & mask] = item;
  }

  clear(): void {
    this.#slots = new Array<T | undefined>(4);
    this.#head = 0;
    this.#size = 0;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    const mask = this.#slots.length - 1;
    for (let i = 0; i < this.#size; i++) yield this.#slots[(this.#head + i) & mask] as T;
  }

  #grow(): void {
    const old = this.#slots;
    const next = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.#size; i++) next[i] = old[(this.#head + i) & (old.length - 1)];
    this.#slots = next;
    this.#head = 0;
  }
}
