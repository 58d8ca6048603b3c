/**
 * The loop's FIFO of runnables: a growable ring buffer. It never shrinks and never moves its
 * items on removal, so pushing and shifting cost a store and an index increment.
 */
import type { Runnable } from "./runnable.ts";

export class ReadyQueue {
  // Invariant: items live at #buffer[(#head + i) & #mask] for 0 <= i < #size; capacity is a power of 2.
  #buffer: (Runnable | undefined)[] = new Array<Runnable | undefined>(1024).fill(undefined);
  #mask = 1023;
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(item: Runnable): void {
    if (this.#size > this.#mask) this.#grow();
    this.#buffer[(this.#head + this.#size) & this.#mask] = item;
    this.#size += 1;
  }

  /** Removes and returns the oldest item; the caller checks `size` first. */
  shift(): Runnable {
    const i = this.#head;
    const item = this.#buffer[i]!;
    this.#buffer[i] = undefined;
    this.#head = (i + 1) & this.#mask;
    this.#size -= 1;
    return item;
  }

  clear(): void {
    this.#buffer.fill(undefined);
    this.#head = 0;
    this.#size = 0;
  }

  #grow(): void {
    const old = this.#buffer;
    const capacity = old.length * 2;
    const next = new Array<Runnable | undefined>(capacity).fill(undefined);
    for (let i = 0; i < this.#size; i++) next[i] = old[(this.#head + i) & this.#mask];
    this.#buffer = next;
    this.#mask = capacity - 1;
    this.#head = 0;
  }
}
