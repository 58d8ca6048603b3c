/** Helpers for the seeded stress tests of the synchronization primitives and queues. */
import { CancelledError, TimeoutError, createTask, sleep, timeout, type Task } from "../../src/index.ts";

/** A small seeded PRNG (mulberry32): the same seed gives the same run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Whether `error` is what a cancelled or timed-out wait throws. */
export function isInterruption(error: unknown): boolean {
  return error instanceof CancelledError || error instanceof TimeoutError;
}

/**
 * Short-lived operation tasks, tracked so that a chaos step can cancel one of them, and a line of
 * the ones currently blocked in a wait (in the order they started waiting), so that a test can
 * cancel the one a wake-up just picked, in the same turn.
 */
export class Ops {
  readonly pending = new Set<Task<unknown>>();
  readonly line: Task<unknown>[] = [];

  spawn(fn: (self: () => Task<unknown>) => Promise<unknown>): Task<unknown> {
    let task: Task<unknown> | null = null;
    task = createTask(() => fn(() => task!));
    this.pending.add(task);
    task.addDoneCallback(() => this.pending.delete(task));
    return task;
  }

  /** Runs `wait` with `task` in the line while it is blocked. */
  async inLine<T>(task: Task<unknown>, wait: Promise<T>): Promise<T> {
    this.line.push(task);
    try {
      return await wait;
    } finally {
      const i = this.line.indexOf(task);
      if (i >= 0) this.line.splice(i, 1);
    }
  }

  cancelRandom(random: () => number): void {
    const all = [...this.pending];
    if (all.length > 0) all[Math.floor(random() * all.length)]!.cancel("chaos");
  }

  /** Cancels the task at the head of the line: after a release, that is the one just woken. */
  cancelHead(): void {
    this.line[0]?.cancel("race");
  }

  /** Waits until every operation is done; a deadlock fails with TimeoutError instead of hanging. */
  async settle(): Promise<void> {
    await timeout(10, async () => {
      // Done callbacks (which empty `pending`) run on the loop: sleep(0) lets them.
      while (this.pending.size > 0) {
        await Promise.allSettled([...this.pending]);
        await sleep(0);
      }
    });
  }
}
