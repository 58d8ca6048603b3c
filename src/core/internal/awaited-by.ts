/**
 * Who awaits what, for call graphs (`dev/graph.ts`) and `aiots ps`.
 *
 * A task suspended on a future is known to that future (its awaiters) and the task knows the
 * futures it waits on; the symbol-keyed accessors below read those without exposing them. Futures
 * that wait on others without a task in between (a gather on its children, a shield on its inner
 * work, a task group's parent on its children) register here instead: `addAwaitedBy(child, parent)`.
 */

/** `future[kAwaiters]()`: the tasks suspended on the future right now. */
export const kAwaiters: unique symbol = Symbol("aiots.awaiters");
/** `task[kWaitingOn]()`: the futures the task is suspended on right now. */
export const kWaitingOn: unique symbol = Symbol("aiots.waitingOn");

// child future -> the futures (gather, shield) or tasks (task group parents) waiting on it.
const registry = new WeakMap<object, Set<object>>();

/** Records that `parent` waits on `child` (no-op for a null parent). */
export function addAwaitedBy(child: object, parent: object | null): void {
  if (parent === null) return;
  const parents = registry.get(child);
  if (parents === undefined) registry.set(child, new Set([parent]));
  else parents.add(parent);
}

/** The futures or tasks registered as waiting on `child`. */
export function registeredAwaitedBy(child: object): readonly object[] {
  const parents = registry.get(child);
  return parents === undefined ? [] : [...parents];
}

// gather / shield future -> what it waits on.
const waitsOn = new WeakMap<object, readonly unknown[]>();

/** Records that `future` (a gather or a shield) waits on `children`. */
export function registerWaitsOn(future: object, children: readonly unknown[]): void {
  waitsOn.set(future, children);
}

/** What a gather or shield future waits on (its children, done or not). */
export function registeredWaitsOn(future: object): readonly unknown[] {
  return waitsOn.get(future) ?? [];
}
