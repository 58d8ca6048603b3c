/**
 * The ready queue holds runnables: a `Handle` made by `callSoon`, or an object that schedules itself
 * without allocating a handle (a task's first step, a `sleep(0)`). Both run through `runScheduled`.
 */
export interface Runnable {
  runScheduled(): void;
}

/** Loops implement this symbol-keyed method to take a runnable without wrapping it in a Handle. */
export const kScheduleRunnable: unique symbol = Symbol("aiots.scheduleRunnable");
