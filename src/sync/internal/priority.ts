/**
 * The binary heap behind `PriorityQueue`, and Python's ordering for its default comparison.
 *
 * How it works: a binary min-heap kept in two parallel arrays, items and their sequence numbers.
 * Ties under the comparison are broken by sequence number, so equal items come out in the order
 * they were put (heapq alone is not stable). Items given back by a cancelled getter get numbers
 * below every normal one, in the order they come back: they were put before anything stored now.
 */

// Sequence numbers for given-back items start far below the normal ones (which start at 0).
const RESTORED_BASE = -(2 ** 52);

export class BinaryHeap<T> {
  readonly #compare: (a: T, b: T) => number;
  // Invariant: #items[i] (with #seqs[i]) is never before its parent under #before.
  readonly #items: T[] = [];
  readonly #seqs: number[] = [];
  #nextSeq = 0;
  #nextRestoredSeq = RESTORED_BASE;

  constructor(compare: (a: T, b: T) => number) {
    this.#compare = compare;
  }

  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    this.#insert(item, this.#nextSeq++);
  }

  /** Inserts an item older than every stored one (see the module note). */
  pushOldest(item: T): void {
    this.#insert(item, this.#nextRestoredSeq++);
  }

  /**
   * Removes and returns the first item. The caller checks `size` first. If the comparison throws
   * (items Python could not order), the heap is left exactly as it was.
   */
  pop(): T {
    const items = this.#items;
    const seqs = this.#seqs;
    const top = items[0] as T;
    const topSeq = seqs[0]!;
    const item = items.pop() as T;
    const seq = seqs.pop() as number;
    const n = items.length;
    if (n === 0) return top;
    // Sift the last item down from the root: children move up into the hole at i.
    let i = 0;
    try {
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        const right = child + 1;
        if (right < n && this.#before(items[right] as T, seqs[right]!, items[child] as T, seqs[child]!)) child = right;
        if (!this.#before(items[child] as T, seqs[child]!, item, seq)) break;
        items[i] = items[child] as T;
        seqs[i] = seqs[child]!;
        i = child;
      }
    } catch (error) {
      // Undo: the moved items are the hole's ancestors; move them back down, then restore both ends.
      for (let pos = i; pos > 0; pos = (pos - 1) >> 1) {
        items[pos] = items[(pos - 1) >> 1] as T;
        seqs[pos] = seqs[(pos - 1) >> 1]!;
      }
      items[0] = top;
      seqs[0] = topSeq;
      items.push(item);
      seqs.push(seq);
      throw error;
    }
    items[i] = item;
    seqs[i] = seq;
    return top;
  }

  #before(a: T, aSeq: number, b: T, bSeq: number): boolean {
    const c = this.#compare(a, b);
    if (typeof c !== "number" || Number.isNaN(c)) {
      throw new TypeError(`PriorityQueue compare function must return a number, got ${String(c)}`);
    }
    return c < 0 || (c === 0 && aSeq < bSeq);
  }

  #insert(item: T, seq: number): void {
    const items = this.#items;
    const seqs = this.#seqs;
    let i = items.length;
    // Compare before growing the arrays, so a TypeError from the comparison leaves the heap intact.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(item, seq, items[parent] as T, seqs[parent]!)) break;
      i = parent;
    }
    // Move the parents on the path down one level, then drop the item in.
    let j = items.length;
    items.push(item);
    seqs.push(seq);
    while (j > i) {
      const parent = (j - 1) >> 1;
      items[j] = items[parent] as T;
      seqs[j] = seqs[parent]!;
      j = parent;
    }
    items[i] = item;
    seqs[i] = seq;
  }
}

type Kind = "number" | "string" | "array";

function kindOf(value: unknown): Kind | null {
  switch (typeof value) {
    case "number":
    case "bigint":
    case "boolean":
      return "number";
    case "string":
      return "string";
    default:
      return Array.isArray(value) ? "array" : null;
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return typeof value;
}

/**
 * Compares two values the way Python compares them: numbers (bigints, booleans) by value, strings
 * by code units, arrays lexicographically like tuples, with identical values equal.
 * @throws {TypeError} for values Python could not order against each other.
 */
export function compareLikePython(a: unknown, b: unknown): number {
  if (a === b) return 0;
  const kind = kindOf(a);
  if (kind === null || kind !== kindOf(b)) {
    throw new TypeError(
      `PriorityQueue cannot order ${describe(a)} against ${describe(b)}: use numbers, strings or arrays of them (like Python tuples), or pass { compare }`,
    );
  }
  if (kind === "array") {
    const x = a as unknown[];
    const y = b as unknown[];
    const n = Math.min(x.length, y.length);
    for (let i = 0; i < n; i++) {
      const c = compareLikePython(x[i], y[i]);
      if (c !== 0) return c;
    }
    return x.length - y.length;
  }
  // Numbers, bigints and booleans compare across types with < as in Python; strings by code units.
  const p = a as number;
  const q = b as number;
  return p < q ? -1 : p > q ? 1 : 0;
}
