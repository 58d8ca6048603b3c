/**
 * The ready queue holds runnables: a `Handle` made by `callSoon`, or an object that schedules itself
 * without allocating a handle (a task's first step, a `sleep(0)`). Both run through `runScheduled`.
 */
export interface Runnable {
  /**
   * Runs the scheduled step. A loop calls it from its iteration, between `enterDrain()` and
   * `leaveDrain()`: a task's first step then enters the task's context inside the drain's own,
   * captured once per drain (see `runTaskStep`); outside a drain it costs a second context frame.
   */
  runScheduled(): void;
}

/** Loops implement this symbol-keyed method to take a runnable without wrapping it in a Handle. */
export const kScheduleRunnable: unique symbol = Symbol("aiots.scheduleRunnable");

/**
 * How many tasks may be running in microtasks right now: woken (a wait settled, or just started)
 * and not yet suspended again on an aiots wait. The loop reads it before an iteration: while it is
 * above zero, some task has not reached its next suspension, and the iteration waits for the
 * microtask queue to empty (asyncio's guarantee that one `sleep(0)` lets every other ready task run
 * to its next suspension, however deep its async calls). `epoch` is bumped when the loop knows the
 * microtask queue is empty (every task is suspended, on aiots or on a foreign promise), which
 * resets the count without visiting the tasks: a task counts itself in the current epoch only.
 */
export const taskActivity: { running: number; epoch: number; onQuiet: (() => void) | null } = { running: 0, epoch: 1, onQuiet: null };

/**
 * A running task reached its next suspension (or finished). When it was the last one and the loop
 * waits for that (`onQuiet`, set by the loop, cleared here), the loop is told, synchronously: it
 * schedules its next step as a microtask, queued after what the task itself queued. That is one
 * promise reaction per wait, where checking the count after every reaction would cost several.
 */
export function taskSuspended(): void {
  taskActivity.running -= 1;
  if (taskActivity.running === 0 && taskActivity.onQuiet !== null) {
    const onQuiet = taskActivity.onQuiet;
    taskActivity.onQuiet = null;
    onQuiet();
  }
}
